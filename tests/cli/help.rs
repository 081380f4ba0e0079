//! `--help` and usage errors.

use crate::support::ecomm;

#[test]
fn help_documents_the_exit_codes() {
    let out = ecomm()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(out).unwrap();
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("3  partial success"), "{help}");
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    ecomm().arg("--no-such-flag").assert().code(2);
}
