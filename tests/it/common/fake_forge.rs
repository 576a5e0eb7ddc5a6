//! A fake forge on 127.0.0.1 for the tests of `--open-pr`, `promote --require-status` and
//! `wait`: it serves a script of exchanges in order, checking the method, path, query, headers
//! and JSON body of every request against each forge's documented REST API, and answers like
//! the forge does. Anything unexpected is recorded and fails [`Forge::check`].

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// Assertions on a request's JSON body.
pub type BodyCheck = Box<dyn Fn(&Value) + Send>;

/// One request the fake forge expects, and its answer.
pub struct Exchange {
    pub method: &'static str,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    /// Checks of the JSON body (for POST).
    pub body: Option<BodyCheck>,
    pub status: u16,
    pub answer: Value,
}

/// A fake forge on 127.0.0.1 that serves `script` in order and records failures.
pub struct Forge {
    port: u16,
    failures: Arc<Mutex<Vec<String>>>,
    /// Every request received, as `METHOD path`.
    log: Arc<Mutex<Vec<String>>>,
    served: Arc<Mutex<usize>>,
    expected: usize,
}

impl Forge {
    pub fn start(script: Vec<Exchange>) -> Forge {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let failures = Arc::new(Mutex::new(Vec::new()));
        let served = Arc::new(Mutex::new(0));
        let expected = script.len();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (f, s, l) = (failures.clone(), served.clone(), log.clone());
        std::thread::spawn(move || {
            let mut script = script.into_iter();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                // Keep-alive: several requests may come on one connection.
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        break;
                    }
                    let mut headers = Vec::new();
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        let line = line.trim_end().to_owned();
                        if line.is_empty() {
                            break;
                        }
                        let (k, v) = line.split_once(':').unwrap();
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
                    }
                    let header = |name: &str| {
                        headers
                            .iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone())
                    };
                    let length: usize = header("content-length")
                        .map(|l| l.parse().unwrap())
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let mut parts = request_line.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_owned();
                    let target = parts.next().unwrap_or_default().to_owned();
                    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                    l.lock().unwrap().push(format!("{method} {path}"));
                    let query: Vec<(String, String)> = query
                        .split('&')
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            let (k, v) = p.split_once('=').unwrap_or((p, ""));
                            (k.to_owned(), decode(v))
                        })
                        .collect();
                    let (status, answer) = match script.next() {
                        None => {
                            f.lock()
                                .unwrap()
                                .push(format!("unexpected {method} {target}"));
                            (500, json!({"message": "unexpected"}))
                        }
                        Some(ex) => {
                            let fail = |m: String| f.lock().unwrap().push(m);
                            if method != ex.method || !path_matches(&ex.path, path) {
                                fail(format!(
                                    "expected {} {}, got {method} {path}",
                                    ex.method, ex.path
                                ));
                            }
                            for (k, v) in &ex.query {
                                if !query.iter().any(|(qk, qv)| qk == k && qv == v) {
                                    fail(format!(
                                        "{method} {path}: query {k}={v} missing in {query:?}"
                                    ));
                                }
                            }
                            for (k, v) in &ex.headers {
                                if header(&k.to_ascii_lowercase()).as_deref() != Some(v.as_str()) {
                                    fail(format!("{method} {path}: header {k}: {v} missing"));
                                }
                            }
                            if header("user-agent").is_none_or(|ua| !ua.starts_with("greenlight/"))
                            {
                                fail(format!("{method} {path}: no greenlight User-Agent"));
                            }
                            if let Some(check) = &ex.body {
                                if header("content-type")
                                    .is_none_or(|ct| !ct.starts_with("application/json"))
                                {
                                    fail(format!("{method} {path}: body is not application/json"));
                                }
                                match serde_json::from_slice::<Value>(&body) {
                                    Ok(v) => {
                                        let result = std::panic::catch_unwind(
                                            std::panic::AssertUnwindSafe(|| check(&v)),
                                        );
                                        if let Err(e) = result {
                                            let msg = e
                                                .downcast_ref::<String>()
                                                .cloned()
                                                .unwrap_or_default();
                                            fail(format!("{method} {path}: body: {msg}"));
                                        }
                                    }
                                    Err(e) => fail(format!("{method} {path}: body not JSON: {e}")),
                                }
                            }
                            *s.lock().unwrap() += 1;
                            (ex.status, ex.answer)
                        }
                    };
                    let text = answer.to_string();
                    let response = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
                        text.len()
                    );
                    if writer.write_all(response.as_bytes()).is_err() {
                        break;
                    }
                }
            }
        });
        Forge {
            port,
            failures,
            log,
            served,
            expected,
        }
    }

    pub fn url(&self, suffix: &str) -> String {
        format!("http://127.0.0.1:{}{suffix}", self.port)
    }

    /// Every request received so far, as `METHOD path`.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    #[track_caller]
    /// Every request served was the one scripted, and their number is within `served` (for a
    /// test whose request count depends on the machine's speed, such as a timeout).
    pub fn check_served(&self, served: std::ops::RangeInclusive<usize>) {
        let failures = self.failures.lock().unwrap();
        assert!(failures.is_empty(), "{failures:#?}");
        let count = *self.served.lock().unwrap();
        assert!(
            served.contains(&count),
            "requests served: {count}, expected {served:?}"
        );
    }

    pub fn check(&self) {
        let failures = self.failures.lock().unwrap();
        assert!(failures.is_empty(), "{failures:#?}");
        assert_eq!(
            *self.served.lock().unwrap(),
            self.expected,
            "requests served"
        );
    }
}

/// Whether request path `actual` is the `expected` one, where a `*` segment stands for any
/// one segment (a commit id only known once the test runs).
fn path_matches(expected: &str, actual: &str) -> bool {
    let (e, a): (Vec<&str>, Vec<&str>) =
        (expected.split('/').collect(), actual.split('/').collect());
    e.len() == a.len() && e.iter().zip(&a).all(|(e, a)| *e == "*" || e == a)
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
