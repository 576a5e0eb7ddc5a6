//! Commit signing, configured and performed the way git does it: `commit.gpgsign` turns it on,
//! `gpg.format` picks OpenPGP (`gpg --status-fd=2 -bsau KEY`) or SSH (`ssh-keygen -Y sign -n
//! git -f KEY`), `user.signingkey` names the key, `gpg.program` / `gpg.openpgp.program` /
//! `gpg.ssh.program` the programs. X.509 (gpgsm) is refused rather than half-supported.
//!
//! Only the signature is produced here; the caller writes the signed commit. Nothing is
//! printed, and no key material passes through greenlight (the programs read the keys).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::RepoError;

/// How commits are signed, from git config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signer {
    /// `gpg.format openpgp` (the default).
    OpenPgp {
        /// The gpg program.
        program: String,
        /// The key id, or the committer's `Name <email>` when `user.signingkey` is unset.
        key: String,
    },
    /// `gpg.format ssh`.
    Ssh {
        /// The ssh-keygen program.
        program: String,
        /// The key.
        key: SshKey,
    },
}

/// An SSH signing key as `user.signingkey` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SshKey {
    /// A path to a private key, or to a public key whose private half is in ssh-agent.
    File(PathBuf),
    /// A public key given literally (`key::ssh-ed25519 AAAA...`); the agent signs.
    Literal(String),
}

/// The signing set-up of a repository's git config, or `None` when commits are not signed.
/// `committer` is the committer's `Name <email>` (OpenPGP's default key).
pub(crate) fn from_config(
    get: &dyn Fn(&str) -> Option<String>,
    committer: &str,
) -> Result<Option<Signer>, RepoError> {
    let sign = get("commit.gpgsign")
        .map(|v| parse_bool(&v))
        .transpose()
        .map_err(|value| RepoError::Signing {
            problem: format!("commit.gpgsign = {value:?} is not a boolean"),
        })?
        .unwrap_or(false);
    if !sign {
        return Ok(None);
    }
    let format = get("gpg.format").unwrap_or_else(|| "openpgp".to_owned());
    let key = get("user.signingkey").filter(|k| !k.trim().is_empty());
    match format.as_str() {
        "openpgp" => Ok(Some(Signer::OpenPgp {
            program: get("gpg.openpgp.program")
                .or_else(|| get("gpg.program"))
                .unwrap_or_else(|| "gpg".to_owned()),
            key: key.unwrap_or_else(|| committer.to_owned()),
        })),
        "ssh" => {
            let Some(key) = key else {
                return Err(RepoError::Signing {
                    problem: "gpg.format is ssh but user.signingkey is not set (greenlight does \
                              not run gpg.ssh.defaultKeyCommand)"
                        .to_owned(),
                });
            };
            let key = match key.strip_prefix("key::") {
                Some(literal) => SshKey::Literal(literal.trim().to_owned()),
                None if key.starts_with("ssh-") || key.starts_with("ecdsa-") => {
                    SshKey::Literal(key.trim().to_owned())
                }
                None => SshKey::File(expand_home(key.trim())),
            };
            Ok(Some(Signer::Ssh {
                program: get("gpg.ssh.program").unwrap_or_else(|| "ssh-keygen".to_owned()),
                key,
            }))
        }
        other => Err(RepoError::Signing {
            problem: format!(
                "gpg.format {other} is not supported (greenlight signs with openpgp or ssh)"
            ),
        }),
    }
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(value.to_owned()),
    }
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

impl Signer {
    /// The signature of `payload` (a commit buffer), ASCII-armoured as git stores it.
    pub(crate) fn sign(&self, payload: &[u8]) -> Result<String, RepoError> {
        match self {
            Signer::OpenPgp { program, key } => {
                let mut child = Command::new(program)
                    .args(["--status-fd=2", "-bsau", key])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| not_found(program, &e))?;
                child
                    .stdin
                    .take()
                    .expect("stdin is piped")
                    .write_all(payload)
                    .map_err(|e| failed(program, &e.to_string()))?;
                let out = child
                    .wait_with_output()
                    .map_err(|e| failed(program, &e.to_string()))?;
                let status = String::from_utf8_lossy(&out.stderr);
                if !out.status.success() || !status.contains("[GNUPG:] SIG_CREATED ") {
                    return Err(failed(program, &human_lines(&status)));
                }
                String::from_utf8(out.stdout)
                    .map_err(|_| failed(program, "the signature is not text"))
            }
            Signer::Ssh { program, key } => {
                let dir = tempfile::Builder::new()
                    .prefix("greenlight-sign-")
                    .tempdir()
                    .map_err(|e| failed(program, &e.to_string()))?;
                let payload_path = dir.path().join("commit");
                std::fs::write(&payload_path, payload)
                    .map_err(|e| failed(program, &e.to_string()))?;
                let mut cmd = Command::new(program);
                cmd.args(["-Y", "sign", "-n", "git", "-f"]);
                match key {
                    SshKey::File(path) => {
                        if !path.exists() {
                            return Err(RepoError::Signing {
                                problem: format!(
                                    "user.signingkey {} does not exist",
                                    path.display()
                                ),
                            });
                        }
                        cmd.arg(path);
                    }
                    SshKey::Literal(literal) => {
                        let key_path = dir.path().join("key.pub");
                        std::fs::write(&key_path, format!("{literal}\n"))
                            .map_err(|e| failed(program, &e.to_string()))?;
                        cmd.arg(&key_path).arg("-U");
                    }
                }
                let out = cmd
                    .arg(&payload_path)
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| not_found(program, &e))?;
                if !out.status.success() {
                    return Err(failed(
                        program,
                        &human_lines(&String::from_utf8_lossy(&out.stderr)),
                    ));
                }
                std::fs::read_to_string(dir.path().join("commit.sig"))
                    .map_err(|e| failed(program, &format!("no signature written: {e}")))
            }
        }
    }
}

fn not_found(program: &str, e: &std::io::Error) -> RepoError {
    RepoError::Signing {
        problem: format!("could not run {program}: {e}"),
    }
}

fn failed(program: &str, detail: &str) -> RepoError {
    RepoError::Signing {
        problem: format!("{program} could not sign the commit: {detail}"),
    }
}

/// The program's messages without gpg's machine-readable status lines.
fn human_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("[GNUPG:]"))
        .collect();
    if lines.is_empty() {
        "it gave no reason".to_owned()
    } else {
        lines.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const ME: &str = "Release Bot <bot@example.com>";

    #[test]
    fn unsigned_unless_commit_gpgsign() {
        assert_eq!(from_config(&config(&[]), ME).unwrap(), None);
        assert_eq!(
            from_config(&config(&[("commit.gpgsign", "false")]), ME).unwrap(),
            None
        );
        assert!(from_config(&config(&[("commit.gpgsign", "maybe")]), ME).is_err());
    }

    #[test]
    fn openpgp_is_the_default_with_the_committer_as_key() {
        assert_eq!(
            from_config(&config(&[("commit.gpgsign", "true")]), ME).unwrap(),
            Some(Signer::OpenPgp {
                program: "gpg".into(),
                key: ME.into()
            })
        );
        assert_eq!(
            from_config(
                &config(&[
                    ("commit.gpgsign", "yes"),
                    ("user.signingkey", "ABCD1234"),
                    ("gpg.program", "gpg2"),
                ]),
                ME
            )
            .unwrap(),
            Some(Signer::OpenPgp {
                program: "gpg2".into(),
                key: "ABCD1234".into()
            })
        );
    }

    #[test]
    fn ssh_keys_as_paths_literals_and_home_relative() {
        let ssh = |key: &str| {
            from_config(
                &config(&[
                    ("commit.gpgsign", "true"),
                    ("gpg.format", "ssh"),
                    ("user.signingkey", key),
                ]),
                ME,
            )
            .unwrap()
        };
        assert_eq!(
            ssh("/keys/id_ed25519"),
            Some(Signer::Ssh {
                program: "ssh-keygen".into(),
                key: SshKey::File("/keys/id_ed25519".into())
            })
        );
        assert_eq!(
            ssh("key::ssh-ed25519 AAAAC3 me"),
            Some(Signer::Ssh {
                program: "ssh-keygen".into(),
                key: SshKey::Literal("ssh-ed25519 AAAAC3 me".into())
            })
        );
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(
                ssh("~/.ssh/id_ed25519"),
                Some(Signer::Ssh {
                    program: "ssh-keygen".into(),
                    key: SshKey::File(Path::new(&home).join(".ssh/id_ed25519"))
                })
            );
        }
    }

    #[test]
    fn unsupported_set_ups_are_refused_clearly() {
        let err = from_config(
            &config(&[("commit.gpgsign", "true"), ("gpg.format", "x509")]),
            ME,
        )
        .unwrap_err();
        assert!(err.to_string().contains("x509 is not supported"), "{err}");
        let err = from_config(
            &config(&[("commit.gpgsign", "true"), ("gpg.format", "ssh")]),
            ME,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("user.signingkey is not set"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_program_or_key_is_an_error_not_an_unsigned_commit() {
        let signer = Signer::Ssh {
            program: "ssh-keygen".into(),
            key: SshKey::File("/nonexistent/key".into()),
        };
        let err = signer.sign(b"tree 0\n").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/key"), "{err}");
        let signer = Signer::OpenPgp {
            program: "/nonexistent/gpg".into(),
            key: "x".into(),
        };
        assert!(signer.sign(b"tree 0\n").is_err());
    }
}
