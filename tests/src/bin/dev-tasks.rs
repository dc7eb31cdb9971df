//! Generated artefacts and installation, run by `make`:
//!
//! ```text
//! dev-tasks completions OUT BIN_DIR        shell completions (bash zsh fish powershell elvish)
//! dev-tasks man DIR                        man pages (roff) of the four tools, from their clap commands
//! dev-tasks alias install|uninstall FILE   our AWS CLI aliases in FILE between markers
//! dev-tasks install PREFIX BIN_DIR ALIAS   binaries, completions, man pages, aliases
//! dev-tasks uninstall PREFIX ALIAS         removes exactly what install put there
//! ```
//!
//! The alias file (`~/.aws/cli/alias`) is edited with the same lossless document as the AWS
//! config: the user's own aliases, comments and layout are never touched; an alias the user
//! already defines is left alone and reported.

use std::path::Path;
use std::process::ExitCode;

use shared::config::doc::LineKind;

const BEGIN: &str = "# >>> aws-companions aliases >>>";
const END: &str = "# <<< aws-companions aliases <<<";
const ALIASES: [(&str, &str); 4] = [
    ("whoami", "!aws-whoami"),
    ("assume", "!aws-assume"),
    ("sso-sync", "!aws-sso-sync"),
    ("keyaudit", "!aws-keyaudit"),
];

fn commands() -> Vec<(&'static str, clap::Command)> {
    vec![
        ("aws-whoami", aws_whoami::command()),
        ("aws-assume", aws_assume::command()),
        ("aws-sso-sync", aws_sso_sync::command()),
        ("aws-keyaudit", aws_keyaudit::command()),
    ]
}

const BINS: [&str; 4] = ["aws-whoami", "aws-assume", "aws-sso-sync", "aws-keyaudit"];
const SHELLS: [(&str, &str, &str); 5] = [
    // (shell, file name pattern, install dir under PREFIX)
    ("bash", "{}.bash", "share/bash-completion/completions/{}"),
    ("zsh", "_{}", "share/zsh/site-functions/_{}"),
    ("fish", "{}.fish", "share/fish/vendor_completions.d/{}.fish"),
    ("powershell", "{}.ps1", ""),
    ("elvish", "{}.elv", ""),
];

/// A completion script: what the binary prints for `COMPLETE=<shell>` (a registration that calls
/// the binary back, so profile and sso-session names come from the user's own config).
fn completion(bin_dir: &Path, bin: &str, shell: &str) -> Result<Vec<u8>, String> {
    let out = std::process::Command::new(bin_dir.join(bin))
        .env_clear()
        .env("COMPLETE", shell)
        .env("HOME", std::env::temp_dir())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin_dir.join(bin).display()))?;
    if !out.status.success() || out.stdout.is_empty() {
        return Err(format!("{bin} printed no {shell} completion"));
    }
    Ok(out.stdout)
}

/// Writes completions/ from the built binaries.
fn completions(out_dir: &Path, bin_dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out_dir).map_err(|e| e.to_string())?;
    for bin in BINS {
        for (shell, pattern, _) in SHELLS {
            let path = out_dir.join(pattern.replace("{}", bin));
            std::fs::write(&path, completion(bin_dir, bin, shell)?).map_err(|e| e.to_string())?;
        }
    }
    println!("wrote {} completion scripts to {}", BINS.len() * SHELLS.len(), out_dir.display());
    Ok(())
}

fn install(prefix: &Path, bin_dir: &Path, alias_file: &Path, remove: bool) -> Result<(), String> {
    let mut paths = Vec::new();
    for bin in BINS {
        paths.push((Some(bin_dir.join(bin)), prefix.join("bin").join(bin)));
        for (shell, pattern, target) in SHELLS.iter().filter(|s| !s.2.is_empty()) {
            let _ = shell;
            paths.push((
                Some(workspace().join("completions").join(pattern.replace("{}", bin))),
                prefix.join(target.replace("{}", bin)),
            ));
        }
        paths.push((None, prefix.join("share/man/man1").join(format!("{bin}.1"))));
    }
    if remove {
        for (_, to) in &paths {
            match std::fs::remove_file(to) {
                Ok(()) => println!("removed {}", to.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot remove {}: {e}", to.display())),
            }
        }
        return alias(false, alias_file);
    }
    for (from, to) in &paths {
        let Some(from) = from else { continue };
        std::fs::create_dir_all(to.parent().expect("a parent")).map_err(|e| e.to_string())?;
        std::fs::copy(from, to).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
        println!("installed {}", to.display());
    }
    man(&prefix.join("share/man/man1")).map_err(|e| e.to_string())?;
    alias(true, alias_file)
}

fn workspace() -> std::path::PathBuf {
    e2e::harness::workspace_root()
}

fn man(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, cmd) in commands() {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.name(name)).render(&mut buf)?;
        std::fs::write(dir.join(format!("{name}.1")), buf)?;
        println!("{}", dir.join(format!("{name}.1")).display());
    }
    Ok(())
}

fn alias(install: bool, file: &Path) -> Result<(), String> {
    let env = shared::os::Env::from_process();
    let purpose = if install { "installing the aws-companions aliases" } else { "removing the aws-companions aliases" };
    shared::config::write::edit(file, &env, purpose, |doc| {
        if let Some(r) = doc.block(BEGIN, END) {
            doc.replace_lines(r, "");
        }
        if !install {
            return Ok(());
        }
        let nl = doc.newline().to_string();
        // Aliases the user defined themselves stay theirs.
        let own: Vec<String> = doc
            .sections()
            .into_iter()
            .filter(|s| s.name == "toplevel")
            .flat_map(|s| doc.properties(s.body))
            .map(|(k, _, _)| k)
            .collect();
        let ours: Vec<(&str, &str)> = ALIASES.iter().copied().filter(|(k, _)| !own.iter().any(|o| o == k)).collect();
        for (k, _) in ALIASES.iter().filter(|(k, _)| own.iter().any(|o| o == k)) {
            eprintln!("kept your own `{k}` alias in {}", file.display());
        }
        let block: String = std::iter::once(BEGIN.to_string())
            .chain(ours.iter().map(|(k, v)| format!("{k} = {v}")))
            .chain(std::iter::once(END.to_string()))
            .map(|l| l + &nl)
            .collect();
        match doc.section("toplevel") {
            Some(s) => {
                let mut at = s.header + 1;
                for i in s.body.clone() {
                    if matches!(doc.lines()[i].kind(), LineKind::Property { .. } | LineKind::Continuation { .. }) {
                        at = i + 1;
                    }
                }
                doc.replace_lines(at..at, &block);
            }
            None => doc.replace_block(BEGIN, END, &format!("[toplevel]{nl}{block}")),
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    println!(
        "{} the aws-companions aliases {} {}",
        if install { "installed" } else { "removed" },
        if install { "in" } else { "from" },
        file.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["man", dir] => man(Path::new(dir)).map_err(|e| e.to_string()),
        ["completions", out, bins] => completions(Path::new(out), Path::new(bins)),
        ["install", prefix, bins, alias_file] => install(Path::new(prefix), Path::new(bins), Path::new(alias_file), false),
        ["uninstall", prefix, alias_file] => install(Path::new(prefix), Path::new("."), Path::new(alias_file), true),
        ["alias", "install", file] => alias(true, Path::new(file)),
        ["alias", "uninstall", file] => alias(false, Path::new(file)),
        _ => Err("usage: dev-tasks completions OUT BIN_DIR | man DIR | alias install|uninstall FILE | install PREFIX BIN_DIR ALIAS_FILE | uninstall PREFIX ALIAS_FILE".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dev-tasks: error: {e}");
            ExitCode::from(2)
        }
    }
}
