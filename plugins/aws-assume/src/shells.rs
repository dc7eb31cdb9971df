//! Printing credentials for shells and tools, quoted so that no value (a hostile region, a
//! profile name with quotes or `$(...)`) can run anything when the output is evaluated.

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// POSIX shells: `export K='V'`.
    Env,
    /// fish: `set -gx K 'V'`.
    Fish,
    /// PowerShell: `$Env:K = 'V'`.
    Powershell,
    /// A .env file: `K="V"`.
    Dotenv,
    /// POSIX assignments without `export` (the AWS CLI's `export-credentials` name): `K='V'`.
    EnvNoExport,
    /// Windows cmd.exe (the AWS CLI's name): `set "K=V"`; values cmd would expand are refused.
    WindowsCmd,
    /// JSON with AccessKeyId, SecretAccessKey, SessionToken, Expiration, Profile, Arn.
    Json,
    /// The credential_process contract (Version 1).
    Process,
}

impl ExportFormat {
    /// The default for the user's shell ($SHELL).
    pub fn from_shell(shell: Option<&str>) -> Self {
        let name = shell.and_then(|s| s.rsplit('/').next()).unwrap_or("");
        match name {
            "fish" => ExportFormat::Fish,
            "pwsh" | "powershell" | "pwsh.exe" | "powershell.exe" => ExportFormat::Powershell,
            _ => ExportFormat::Env,
        }
    }
}

/// POSIX single quotes: `'` becomes `'\''`.
pub fn posix_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// fish single quotes: only `\` and `'` are special.
pub fn fish_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', r"\\").replace('\'', r"\'"))
}

/// PowerShell single quotes: `'` (and its typographic forms) doubled.
pub fn powershell_quote(v: &str) -> String {
    let mut out = String::from("'");
    for c in v.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// dotenv double quotes with backslash escapes (`$` escaped too, against expansion).
pub fn dotenv_quote(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '$' => out.push_str("\\$"),
            '`' => out.push_str("\\`"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// cmd.exe has no quoting that stops `%VAR%` (and, with delayed expansion, `!VAR!`) from being
/// expanded, so such values are refused rather than printed; inside `set "K=V"` the other
/// metacharacters (`& | < > ^`) are plain text.
fn cmd_value(k: &str, v: &str) -> Result<String, String> {
    if v.chars().any(|c| matches!(c, '"' | '%' | '!' | '\r' | '\n')) {
        return Err(format!(
            "{k} holds a character cmd.exe would expand or split (\" % ! or a line break); use --format powershell"
        ));
    }
    Ok(format!("set \"{k}={v}\""))
}

/// The lines that set `vars` and unset `unset` in a shell format.
pub fn render(format: ExportFormat, vars: &[(&str, String)], unset: &[&str]) -> Result<String, String> {
    let mut out = String::new();
    for name in unset {
        let line = match format {
            ExportFormat::Env => format!("unset {name}"),
            ExportFormat::Fish => format!("set -e {name}"),
            ExportFormat::Powershell => format!("Remove-Item Env:{name} -ErrorAction SilentlyContinue"),
            ExportFormat::WindowsCmd => format!("set {name}="),
            _ => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    for (k, v) in vars {
        let line = match format {
            ExportFormat::Env => format!("export {k}={}", posix_quote(v)),
            ExportFormat::EnvNoExport => format!("{k}={}", posix_quote(v)),
            ExportFormat::Fish => format!("set -gx {k} {}", fish_quote(v)),
            ExportFormat::Powershell => format!("$Env:{k} = {}", powershell_quote(v)),
            ExportFormat::Dotenv => format!("{k}={}", dotenv_quote(v)),
            ExportFormat::WindowsCmd => cmd_value(k, v)?,
            ExportFormat::Json | ExportFormat::Process => unreachable!("JSON formats are rendered elsewhere"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// `aws-assume init SHELL`: a shell function `assume` that applies the export to the current
/// shell, with profile-name completion.
pub fn init_script(shell: &str) -> Option<String> {
    let passthrough =
        "--list|--clear-cache|--console|--print|--help|-h|--version|-V|--format|--shell|--profile-names|init|--";
    Some(match shell {
        "bash" | "zsh" => format!(
            r#"# aws-assume: `eval "$(aws-assume init {shell})"` in your ~/.{shell}rc
assume() {{
  local a
  for a in "$@"; do
    case "$a" in
      {passthrough}) command aws-assume "$@"; return $? ;;
    esac
  done
  local out
  out="$(command aws-assume --format env "$@")" || return $?
  eval "$out"
}}
{completion}"#,
            completion = if shell == "bash" {
                // Profile names are data: read line by line, matched as literal prefixes, and
                // inserted %q-quoted (compgen -W would expand `$(...)` inside a name).
                r#"_assume_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" p
  COMPREPLY=()
  while IFS= read -r p; do
    [[ "$p" == "$cur"* ]] && COMPREPLY+=( "$(printf '%q' "$p")" )
  done < <(command aws-assume --profile-names 2>/dev/null)
}
complete -F _assume_complete assume
"#
                .to_string()
            } else {
                // compadd quotes what it inserts; nothing is evaluated.
                r#"_assume_complete() { local -a profiles; profiles=("${(@f)$(command aws-assume --profile-names 2>/dev/null)}"); compadd -a profiles; }
(( $+functions[compdef] )) && compdef _assume_complete assume
"#
                .to_string()
            }
        ),
        "fish" => format!(
            r#"# aws-assume: `aws-assume init fish | source` in ~/.config/fish/config.fish
function assume
  for a in $argv
    switch $a
      case {}
        command aws-assume $argv
        return $status
    end
  end
  set -l out (command aws-assume --format fish $argv); or return $status
  printf '%s\n' $out | source
end
complete -c assume -f -a '(command aws-assume --profile-names 2>/dev/null)'
"#,
            passthrough.replace('|', " ")
        ),
        "powershell" | "pwsh" => format!(
            r#"# aws-assume: `aws-assume init powershell | Out-String | Invoke-Expression` in your $PROFILE
function assume {{
  $pass = @({})
  foreach ($a in $args) {{ if ($pass -contains $a) {{ & aws-assume @args; return }} }}
  $out = & aws-assume --format powershell @args
  if ($LASTEXITCODE -ne 0) {{ return }}
  Invoke-Expression ($out -join "`n")
}}
Register-ArgumentCompleter -CommandName assume -ScriptBlock {{
  param($commandName, $parameterName, $wordToComplete)
  & aws-assume --profile-names | Where-Object {{ $_.StartsWith($wordToComplete) }} | ForEach-Object {{
    $text = if ($_ -match '^[\w.@+=,:/-]+$') {{ $_ }} else {{ "'" + ($_ -replace "'", "''") + "'" }}
    [System.Management.Automation.CompletionResult]::new($text, $_, 'ParameterValue', $_)
  }}
}}
"#,
            passthrough.split('|').map(|p| format!("'{p}'")).collect::<Vec<_>>().join(", ")
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_neutralises_hostile_values() {
        let hostile = "us-east-1'; rm -rf ~; echo '$(id)`id`\\\"\n";
        assert_eq!(posix_quote("a'b"), r"'a'\''b'");
        assert_eq!(fish_quote(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(powershell_quote("a'b"), "'a''b'");
        assert_eq!(dotenv_quote("a\"$b"), "\"a\\\"\\$b\"");
        let out = render(ExportFormat::Env, &[("AWS_REGION", hostile.into())], &["AWS_PROFILE"]).unwrap();
        assert!(out.starts_with("unset AWS_PROFILE\nexport AWS_REGION='"));
    }

    #[test]
    fn shell_defaults() {
        assert_eq!(ExportFormat::from_shell(Some("/usr/bin/fish")), ExportFormat::Fish);
        assert_eq!(ExportFormat::from_shell(Some("/usr/local/bin/pwsh")), ExportFormat::Powershell);
        assert_eq!(ExportFormat::from_shell(Some("/bin/zsh")), ExportFormat::Env);
        assert_eq!(ExportFormat::from_shell(None), ExportFormat::Env);
    }

    #[test]
    fn the_aws_cli_export_formats() {
        let vars = [("AWS_ACCESS_KEY_ID", "ASIA1".to_string()), ("AWS_SESSION_TOKEN", "a+b/c=".to_string())];
        assert_eq!(
            render(ExportFormat::EnvNoExport, &vars, &["AWS_PROFILE"]).unwrap(),
            "AWS_ACCESS_KEY_ID='ASIA1'\nAWS_SESSION_TOKEN='a+b/c='\n"
        );
        assert_eq!(
            render(ExportFormat::WindowsCmd, &vars, &["AWS_PROFILE"]).unwrap(),
            "set AWS_PROFILE=\nset \"AWS_ACCESS_KEY_ID=ASIA1\"\nset \"AWS_SESSION_TOKEN=a+b/c=\"\n"
        );
        let hostile = [("AWS_ASSUME_PROFILE", "a%PATH%b".to_string())];
        assert!(render(ExportFormat::WindowsCmd, &hostile, &[]).unwrap_err().contains("powershell"));
        let amp = [("AWS_REGION", "x&calc".to_string())];
        assert_eq!(render(ExportFormat::WindowsCmd, &amp, &[]).unwrap(), "set \"AWS_REGION=x&calc\"\n");
        assert!(init_script("tcsh").is_none());
    }
}
