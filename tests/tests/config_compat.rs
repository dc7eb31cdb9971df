//! Our reading of every corpus file equals botocore's own (run from the venv): the same profiles,
//! sso-sessions, services, values and nested blocks; and the files botocore refuses, we refuse
//! too (with a line number).

use e2e::harness::{Home, run, venv_bin, workspace_root};
use serde_json::Value;
use shared::config::{AwsFiles, FileKind};

#[test]
fn every_corpus_file_reads_as_botocore_reads_it() {
    let dir = workspace_root().join("shared/tests/data/config");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let home = Home::new();
    let mut checked = 0;
    for path in files {
        for (kind, arg) in [(FileKind::Config, "config"), (FileKind::Credentials, "credentials")] {
            let mut cmd = home.command(venv_bin("python"));
            cmd.arg(workspace_root().join("tests/sandbox/botocore_config.py")).arg(arg).arg(&path);
            let (code, out, err) = run(&mut cmd);
            assert_eq!(code, 0, "{err}");
            let theirs: Value = serde_json::from_str(&out).unwrap();
            let files = match kind {
                FileKind::Config => AwsFiles::load_from(path.clone(), "/nonexistent".into()),
                FileKind::Credentials => AwsFiles::load_from("/nonexistent".into(), path.clone()),
            }
            .unwrap();
            let ours = files.botocore_view(kind);
            if theirs["ok"] == true {
                let mut ours = ours.unwrap_or_else(|e| panic!("{}: botocore reads it, we refuse: {e}", path.display()));
                ours["ok"] = Value::Bool(true);
                assert_eq!(ours, theirs, "{} as {arg}", path.display());
            } else {
                let e = ours.expect_err(&format!(
                    "{}: botocore refuses it ({}), we read it",
                    path.display(),
                    theirs["error"]
                ));
                assert!(e.to_string().contains(&format!("{}:", path.display())), "the error names file and line: {e}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 40);
}
