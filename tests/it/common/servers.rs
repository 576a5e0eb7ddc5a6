//! Real git servers on 127.0.0.1 for the push tests, each started by the test and killed on
//! drop: `git daemon --enable=receive-pack`, `git http-backend` behind a small Python CGI
//! server (tests/support/git_http_server.py) with an optional access token, and Debian's
//! OpenSSH server with its own host key and one authorized client key.

use std::io::{BufRead as _, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what} exited before listening: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within 20 s");
}

/// `git daemon` serving every repository under `base` over git://, pushes enabled.
pub fn git_daemon(base: &Path) -> Server {
    let port = free_port();
    let mut child = Command::new("git")
        .args([
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("git daemon must be installed (Debian package git)");
    wait_for_port(port, &mut child, "git daemon");
    Server { child, port }
}

/// `git http-backend` serving every repository under `root` over http://, pushes enabled;
/// with `token`, every request needs HTTP Basic auth with that password.
pub fn git_http(root: &Path, token: Option<&str>) -> Server {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/git_http_server.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(root);
    if let Some(token) = token {
        cmd.args(["--token", token]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 must be installed");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the http server printed {line:?} instead of its port"));
    wait_for_port(port, &mut child, "git http server");
    Server { child, port }
}

/// An OpenSSH server on 127.0.0.1 that lets `client_key` in as the current user.
pub struct Sshd {
    pub server: Server,
    /// A known_hosts file holding the server's host key.
    pub known_hosts: PathBuf,
    /// The authorized client's private key.
    pub client_key: PathBuf,
    /// The current user's name (the ssh login).
    pub user: String,
}

/// Makes an ed25519 key pair at `path` (and `path`.pub), without a passphrase.
pub fn ssh_keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "greenlight-test",
            "-f",
        ])
        .arg(path)
        .status()
        .expect("ssh-keygen must be installed (Debian package openssh-client)")
        .success();
    assert!(ok, "ssh-keygen failed");
}

/// Starts sshd with keys made in `dir`.
pub fn sshd(dir: &Path) -> Sshd {
    std::fs::create_dir_all(dir).unwrap();
    let host_key = dir.join("host_key");
    let client_key = dir.join("client_key");
    ssh_keygen(&host_key);
    ssh_keygen(&client_key);
    let authorized = dir.join("authorized_keys");
    std::fs::copy(dir.join("client_key.pub"), &authorized).unwrap();
    let port = free_port();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\n\
             UsePAM no\nPidFile {}\nPermitRootLogin prohibit-password\n\
             SetEnv PATH=/usr/local/bin:/usr/bin:/bin\n",
            host_key.display(),
            authorized.display(),
            dir.join("sshd.pid").display(),
        ),
    )
    .unwrap();
    // sshd needs its privilege-separation directory (created by the Debian service, which
    // the tests do not start).
    let _ = std::fs::create_dir_all("/run/sshd");
    let sshd = ["/usr/sbin/sshd", "/usr/local/sbin/sshd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("sshd must be installed (Debian package openssh-server)");
    let mut child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, &mut child, "sshd");
    let host_pub = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
    let key: Vec<&str> = host_pub.split_whitespace().take(2).collect();
    let known_hosts = dir.join("known_hosts");
    std::fs::write(
        &known_hosts,
        format!("[127.0.0.1]:{port} {}\n", key.join(" ")),
    )
    .unwrap();
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();
    Sshd {
        server: Server { child, port },
        known_hosts,
        client_key,
        user,
    }
}
