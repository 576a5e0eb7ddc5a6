//! Signed commits when git config asks for them, checked by git itself: `git verify-commit`
//! and `git log --show-signature`. SSH keys (a private key file, a public key served by
//! ssh-agent, a `key::` literal) and OpenPGP keys are made by the tests.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::sandbox::Sandbox;
use crate::common::servers::ssh_keygen;

const VALUES: &str = crate::common::sandbox::VALUES;

/// A sandbox whose repository signs with ssh `key` (a `user.signingkey` value) and trusts the
/// public key `public` for the committer's email.
fn ssh_sandbox(public: &Path, key: &str) -> Sandbox {
    let s = Sandbox::with_values(VALUES);
    let allowed = s._tmp.path().join("allowed_signers");
    let public_key = std::fs::read_to_string(public).unwrap();
    std::fs::write(&allowed, format!("bot@example.com {public_key}")).unwrap();
    s.git(&["config", "gpg.format", "ssh"]);
    s.git(&["config", "user.signingkey", key]);
    s.git(&["config", "commit.gpgsign", "true"]);
    s.git(&[
        "config",
        "gpg.ssh.allowedSignersFile",
        allowed.to_str().unwrap(),
    ]);
    s
}

#[track_caller]
fn assert_good_ssh_signature(s: &Sandbox) {
    let mut cmd = Command::new("git");
    s.env(&mut cmd);
    let out = cmd.args(["verify-commit", "HEAD"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "git verify-commit: {stderr}");
    assert!(
        stderr.contains("Good \"git\" signature for bot@example.com"),
        "{stderr}"
    );
    let log = s.git(&["log", "--show-signature", "-1"]);
    assert!(log.contains("Good \"git\" signature"), "{log}");
}

#[test]
fn ssh_signed_with_a_private_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    ssh_keygen(&key);
    let s = ssh_sandbox(&key.with_extension("pub"), key.to_str().unwrap());
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    assert_good_ssh_signature(&s);
    s.greenlight(&["promote", "production"]).ok();
    assert_good_ssh_signature(&s);
    assert!(s
        .git(&["cat-file", "commit", "HEAD"])
        .contains("gpgsig -----BEGIN SSH SIGNATURE-----"));
}

/// ssh-agent on a socket in `dir` holding `key`, killed on drop.
struct Agent {
    child: std::process::Child,
    socket: std::path::PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent_with(dir: &Path, key: &Path) -> Agent {
    let socket = dir.join("agent.sock");
    let child = Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&socket)
        .stdout(Stdio::null())
        .spawn()
        .expect("ssh-agent (openssh-client)");
    let agent = Agent { child, socket };
    for _ in 0..200 {
        if agent.socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let ok = Command::new("ssh-add")
        .arg(key)
        .env("SSH_AUTH_SOCK", &agent.socket)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-add");
    agent
}

#[test]
fn ssh_signed_by_the_agent_for_a_public_key_or_a_literal() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    ssh_keygen(&key);
    let public = key.with_extension("pub");
    let agent = agent_with(dir.path(), &key);
    // The private key file is gone: only the agent can sign.
    std::fs::remove_file(&key).unwrap();
    let sock = agent.socket.to_str().unwrap();

    let s = ssh_sandbox(&public, public.to_str().unwrap());
    s.greenlight_env(
        &s.root,
        &["stage", "production", "--tag", "1.5.0"],
        &[("SSH_AUTH_SOCK", sock)],
    )
    .ok();
    assert_good_ssh_signature(&s);

    let literal = format!("key::{}", std::fs::read_to_string(&public).unwrap().trim());
    s.git(&["config", "user.signingkey", &literal]);
    s.greenlight_env(
        &s.root,
        &["promote", "production"],
        &[("SSH_AUTH_SOCK", sock)],
    )
    .ok();
    assert_good_ssh_signature(&s);
}

#[test]
fn openpgp_signed_with_a_throwaway_key() {
    let s = Sandbox::with_values(VALUES);
    let gnupg = s._tmp.path().join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let made = Command::new("gpg")
        .env("GNUPGHOME", &gnupg)
        .args([
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Release Bot <bot@example.com>",
            "ed25519",
            "sign",
            "never",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("gpg (Debian package gnupg)");
    assert!(made.success());
    s.git(&["config", "commit.gpgsign", "true"]);
    let home = gnupg.to_str().unwrap();
    s.greenlight_env(
        &s.root,
        &["stage", "production", "--tag", "1.5.0"],
        &[("GNUPGHOME", home)],
    )
    .ok();
    let mut cmd = Command::new("git");
    s.env(&mut cmd);
    let out = cmd
        .env("GNUPGHOME", &gnupg)
        .args(["verify-commit", "HEAD"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Good signature from \"Release Bot <bot@example.com>\""),
        "{stderr}"
    );
}

#[test]
fn a_signing_failure_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id_ed25519");
    ssh_keygen(&key);
    let s = ssh_sandbox(&key.with_extension("pub"), "/nonexistent/signing-key");
    let head = s.head();
    let values = s.read("environments/production/values.yaml");
    let r = s
        .greenlight(&["stage", "production", "--tag", "1.5.0"])
        .code(2);
    assert!(
        r.stderr.contains("/nonexistent/signing-key"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("commit.gpgsign false"), "{}", r.stderr);
    assert_eq!(s.head(), head);
    assert_eq!(s.read("environments/production/values.yaml"), values);
    assert_eq!(s.git(&["status", "--porcelain"]), "");
}

#[test]
fn unsigned_commits_have_no_signature_header() {
    let s = Sandbox::with_values(VALUES);
    s.greenlight(&["stage", "production", "--tag", "1.5.0"])
        .ok();
    assert!(!s.git(&["cat-file", "commit", "HEAD"]).contains("gpgsig"));
}
