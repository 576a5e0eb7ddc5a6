//! Progress on long work: drawn on a terminal (a real pty made by `script`), never on a pipe,
//! with `--output json` or with `-q`.

use std::path::Path;
use std::process::Command;

const VALUES: &str = crate::common::sandbox::VALUES;

fn many_environments(dir: &Path, n: usize) {
    for i in 0..n {
        let env = dir.join(format!("environments/team{i:03}"));
        std::fs::create_dir_all(&env).unwrap();
        std::fs::write(env.join("values.yaml"), VALUES).unwrap();
    }
}

fn greenlight() -> String {
    assert_cmd::cargo::cargo_bin("greenlight")
        .display()
        .to_string()
}

/// Runs `args` on a pseudo-terminal (util-linux `script`); returns what the terminal showed.
fn on_a_terminal(dir: &Path, args: &str) -> String {
    let out = Command::new("script")
        .args(["-qec", &format!("{} {args}", greenlight()), "/dev/null"])
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("script (Debian package bsdutils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn render_and_verify_show_progress_on_a_terminal_only() {
    let tmp = tempfile::tempdir().unwrap();
    many_environments(tmp.path(), 150);

    let shown = on_a_terminal(tmp.path(), "render --all");
    assert!(
        shown.contains("rendering") || shown.contains("writing"),
        "no progress on a terminal:\n{shown}"
    );
    let shown = on_a_terminal(tmp.path(), "verify");
    assert!(shown.contains("verifying"), "{shown}");

    for quiet in ["render --all -q", "verify -q", "render --all --output json"] {
        let shown = on_a_terminal(tmp.path(), quiet);
        assert!(
            !shown.contains("rendering")
                && !shown.contains("writing")
                && !shown.contains("verifying")
                && !shown.contains("\x1b[2K"),
            "{quiet} drew progress:\n{shown}"
        );
    }

    // On a pipe: the report only, no progress, no terminal codes.
    let out = Command::new(greenlight())
        .args(["render", "--all"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("rendering") && !stderr.contains('\x1b'),
        "{stderr}"
    );
}
