//! Credential-chain scenarios, data-driven: each folder of `tests/data/chain/` is a fake HOME
//! (`.aws/config`, `.aws/credentials`), an `env.json` (variables, `--profile`) and an
//! `expected.json` (what the chain uses: environment keys, a profile's plan, the fallbacks, or an
//! error). No network: this is the decision every tool makes before its first call.

use shared::client::ClientSettings;
use shared::config::{AwsFiles, Base, FileKind};
use shared::credentials::{Choice, Context, Selection, choose};
use shared::os::{Env, SystemClock};

#[test]
fn every_scenario_chooses_as_expected() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/chain");
    let mut cases: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 15);
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("env.json")).unwrap()).unwrap();
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap()).unwrap();
        let mut env = Env::from_pairs([("HOME", case.to_str().unwrap())]);
        for (k, v) in spec["vars"].as_object().unwrap() {
            env.set(k, &v.as_str().unwrap().replace("{case}", case.to_str().unwrap()));
        }
        let files = AwsFiles::load(&env).unwrap();
        let settings = ClientSettings::new(&env, &files, None, 0).unwrap();
        let ctx = Context {
            env: &env,
            files: &files,
            clock: &SystemClock,
            settings: &settings,
            mfa: None,
            mfa_session_seconds: None,
            refresh: false,
            quiet: true,
        };
        let sel = Selection::new(spec["cli_profile"].as_str(), &env);
        match (choose(&ctx, &sel), expected["uses"].as_str().unwrap()) {
            (Ok(Choice::Env(_)), "env") | (Ok(Choice::Fallback), "fallback") => {}
            (Ok(Choice::Plan(plan)), "plan") => {
                assert_eq!(plan.profile, expected["profile"].as_str().unwrap(), "{name}");
                assert_eq!(plan.base.kind(), expected["base"].as_str().unwrap(), "{name}");
                let chain: Vec<String> =
                    expected["chain"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
                assert_eq!(plan.chain(), chain, "{name}");
                assert_eq!(plan.needs_mfa(), expected["mfa"].as_bool().unwrap_or(false), "{name}");
                if let Some(f) = expected["base_file"].as_str() {
                    let want = if f == "credentials" { FileKind::Credentials } else { FileKind::Config };
                    assert!(matches!(plan.base, Base::StaticKeys { file, .. } if file == want), "{name}");
                }
            }
            (Err(e), "error") => {
                assert!(e.to_string().contains(expected["error_contains"].as_str().unwrap()), "{name}: {e}")
            }
            (got, want) => panic!("{name}: expected {want}, got {got:?}"),
        }
    }
}
