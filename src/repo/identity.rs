//! Who a commit is by and when, resolved the way git does it: the `GIT_AUTHOR_*` and
//! `GIT_COMMITTER_*` environment variables first, then `author.*` / `committer.*` and
//! `user.*` from git config, then `EMAIL` for the address. The environment is read through
//! a lookup function so tests can inject it; this module never touches the process
//! environment itself, nor the disk.

use git2::{Config, Signature, Time};

use super::RepoError;

/// A point in time as git records it: seconds since the epoch and the author's UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GitTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Offset of the local time zone from UTC, in minutes (`+0200` is 120).
    pub offset_minutes: i32,
}

/// One side of a commit's identity: a name, an email and, optionally, a fixed date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The name, e.g. `Release Bot`.
    pub name: String,
    /// The email address, e.g. `bot@example.com`.
    pub email: String,
    /// The date to record; `None` means the time of the commit.
    pub when: Option<GitTime>,
}

/// The author and committer of the commits greenlight writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Who wrote the change.
    pub author: Person,
    /// Who committed it.
    pub committer: Person,
}

#[derive(Clone, Copy)]
enum Role {
    Author,
    Committer,
}

impl Role {
    fn env(self, field: &str) -> &'static str {
        match (self, field) {
            (Role::Author, "NAME") => "GIT_AUTHOR_NAME",
            (Role::Author, "EMAIL") => "GIT_AUTHOR_EMAIL",
            (Role::Author, _) => "GIT_AUTHOR_DATE",
            (Role::Committer, "NAME") => "GIT_COMMITTER_NAME",
            (Role::Committer, "EMAIL") => "GIT_COMMITTER_EMAIL",
            (Role::Committer, _) => "GIT_COMMITTER_DATE",
        }
    }

    fn config(self, field: &str) -> &'static str {
        match (self, field) {
            (Role::Author, "name") => "author.name",
            (Role::Author, _) => "author.email",
            (Role::Committer, "name") => "committer.name",
            (Role::Committer, _) => "committer.email",
        }
    }

    fn missing(self, field: &str) -> &'static str {
        match (self, field) {
            (Role::Author, "name") => "author name",
            (Role::Author, _) => "author email",
            (Role::Committer, "name") => "committer name",
            (Role::Committer, _) => "committer email",
        }
    }
}

impl Identity {
    /// Resolve the identity like git: `env` looks up an environment variable (e.g.
    /// `|k| std::env::var(k).ok()`), `config` is the repository's git config (which includes
    /// the global and system files as git would read them). Empty values count as unset.
    pub fn from_env_and_config(
        env: &dyn Fn(&str) -> Option<String>,
        config: &Config,
    ) -> Result<Identity, RepoError> {
        Ok(Identity {
            author: person(Role::Author, env, config)?,
            committer: person(Role::Committer, env, config)?,
        })
    }

    /// The libgit2 signatures of author and committer; an unset date becomes "now", read once
    /// so both sides agree.
    pub(crate) fn signatures(&self) -> Result<(Signature<'static>, Signature<'static>), RepoError> {
        fn failed(source: git2::Error) -> RepoError {
            RepoError::Git {
                operation: "build the commit author and committer",
                source,
            }
        }
        let now = Signature::now(&self.committer.name, &self.committer.email)
            .map_err(failed)?
            .when();
        let sign = |p: &Person| {
            let time = p
                .when
                .map_or(now, |t| Time::new(t.seconds, t.offset_minutes));
            Signature::new(&p.name, &p.email, &time).map_err(failed)
        };
        Ok((sign(&self.author)?, sign(&self.committer)?))
    }
}

fn person(
    role: Role,
    env: &dyn Fn(&str) -> Option<String>,
    config: &Config,
) -> Result<Person, RepoError> {
    let env_value = |key: &str| env(key).filter(|v| !v.trim().is_empty());
    let name = match env_value(role.env("NAME")) {
        Some(v) => Some(v),
        None => config_value(config, role.config("name"))?.or(config_value(config, "user.name")?),
    };
    let email = match env_value(role.env("EMAIL")) {
        Some(v) => Some(v),
        None => config_value(config, role.config("email"))?
            .or(config_value(config, "user.email")?)
            .or_else(|| env_value("EMAIL")),
    };
    let name = name.ok_or(RepoError::NoIdentity {
        missing: role.missing("name"),
    })?;
    let email = email.ok_or(RepoError::NoIdentity {
        missing: role.missing("email"),
    })?;
    let date_var = role.env("DATE");
    let when = match env_value(date_var) {
        None => None,
        Some(text) => Some(parse_git_date(&text).ok_or(RepoError::InvalidDate {
            variable: date_var,
            value: text,
        })?),
    };
    Ok(Person {
        name: name.trim().to_string(),
        email: email.trim().to_string(),
        when,
    })
}

fn config_value(config: &Config, key: &str) -> Result<Option<String>, RepoError> {
    match config.get_string(key) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(RepoError::Git {
            operation: "read the git config",
            source: e,
        }),
    }
}

/// Parse a date in one of the formats git accepts in `GIT_AUTHOR_DATE`:
/// `@<unix> [+zzzz]`, `<unix> +zzzz`, RFC 2822 (`Thu, 07 Apr 2005 22:13:13 +0200`),
/// ISO 8601 (`2005-04-07T22:13:13+02:00`, `2005-04-07 22:13:13 +0200`) and git's default
/// log format (`Thu Apr 7 22:13:13 2005 +0200`). A zone is required except after `@`.
pub fn parse_git_date(text: &str) -> Option<GitTime> {
    let text = text.trim();
    parse_raw(text)
        .or_else(|| parse_iso(text))
        .or_else(|| parse_rfc2822(text))
        .or_else(|| parse_git_default(text))
}

fn parse_raw(text: &str) -> Option<GitTime> {
    let (body, at) = match text.strip_prefix('@') {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let mut parts = body.split_whitespace();
    let secs = parts.next()?;
    let unsigned = secs.strip_prefix('-').unwrap_or(secs);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: i64 = secs.parse().ok()?;
    let offset_minutes = match parts.next() {
        Some(zone) => {
            let mut c = Cursor::new(zone);
            let offset = c.zone()?;
            c.done().then_some(offset)?
        }
        None if at => 0,
        None => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(GitTime {
        seconds,
        offset_minutes,
    })
}

fn parse_iso(text: &str) -> Option<GitTime> {
    let mut c = Cursor::new(text);
    let year = c.digits(4, 4)?;
    c.eat(b'-').then_some(())?;
    let month = c.digits(2, 2)?;
    c.eat(b'-').then_some(())?;
    let day = c.digits(2, 2)?;
    (c.eat(b'T') || c.eat(b't') || c.eat(b' ')).then_some(())?;
    let (hour, minute, second) = c.clock()?;
    if c.eat(b'.') || c.eat(b',') {
        c.digits(1, 9)?;
    }
    c.spaces();
    let offset = c.zone()?;
    c.done().then_some(())?;
    civil(year, month, day, hour, minute, second, offset)
}

fn parse_rfc2822(text: &str) -> Option<GitTime> {
    let mut c = Cursor::new(text);
    if c.weekday() {
        c.eat(b',');
        c.spaces();
    }
    let day = c.digits(1, 2)?;
    c.spaces1()?;
    let month = c.month()?;
    c.spaces1()?;
    let year = c.digits(4, 4)?;
    c.spaces1()?;
    let (hour, minute, second) = c.clock()?;
    c.spaces1()?;
    let offset = c.zone()?;
    c.done().then_some(())?;
    civil(year, month, day, hour, minute, second, offset)
}

fn parse_git_default(text: &str) -> Option<GitTime> {
    let mut c = Cursor::new(text);
    c.weekday().then_some(())?;
    c.spaces1()?;
    let month = c.month()?;
    c.spaces1()?;
    let day = c.digits(1, 2)?;
    c.spaces1()?;
    let (hour, minute, second) = c.clock()?;
    c.spaces1()?;
    let year = c.digits(4, 4)?;
    c.spaces1()?;
    let offset = c.zone()?;
    c.done().then_some(())?;
    civil(year, month, day, hour, minute, second, offset)
}

/// The instant of a wall-clock time at a fixed offset; `None` for a date or time that does
/// not exist (calendar arithmetic is jiff's).
fn civil(
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    offset_minutes: i32,
) -> Option<GitTime> {
    let narrow = |n: u32| i8::try_from(n).ok();
    let local = jiff::civil::DateTime::new(
        i16::try_from(year).ok()?,
        narrow(month)?,
        narrow(day)?,
        narrow(hour)?,
        narrow(minute)?,
        narrow(second)?,
        0,
    )
    .ok()?;
    let offset = jiff::tz::Offset::from_seconds(offset_minutes * 60).ok()?;
    let instant = offset.to_timestamp(local).ok()?;
    Some(GitTime {
        seconds: instant.as_second(),
        offset_minutes,
    })
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor {
            s: s.as_bytes(),
            i: 0,
        }
    }

    fn done(&self) -> bool {
        self.i == self.s.len()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn spaces(&mut self) -> usize {
        let start = self.i;
        while self.eat(b' ') || self.eat(b'\t') {}
        self.i - start
    }

    fn spaces1(&mut self) -> Option<()> {
        (self.spaces() > 0).then_some(())
    }

    /// Between `min` and `max` ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i - start < max && self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        let n = self.i - start;
        if n < min {
            self.i = start;
            return None;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        // Fraction digits may exceed u32; their value is never used.
        Some(text.parse().unwrap_or(0))
    }

    fn word(&mut self, words: &[&str]) -> Option<usize> {
        let rest = &self.s[self.i..];
        let found = words.iter().position(|w| {
            rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes())
        })?;
        self.i += words[found].len();
        Some(found)
    }

    fn weekday(&mut self) -> bool {
        self.word(&["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
            .is_some()
    }

    fn month(&mut self) -> Option<u32> {
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        self.word(&months).map(|m| m as u32 + 1)
    }

    fn clock(&mut self) -> Option<(u32, u32, u32)> {
        let hour = self.digits(2, 2)?;
        self.eat(b':').then_some(())?;
        let minute = self.digits(2, 2)?;
        let second = if self.eat(b':') {
            self.digits(2, 2)?
        } else {
            0
        };
        Some((hour, minute, second))
    }

    /// `Z`, `UTC`, `GMT`, `UT`, `+hh`, `+hhmm` or `+hh:mm` (or `-`), as minutes east of UTC.
    fn zone(&mut self) -> Option<i32> {
        if self.word(&["UTC", "GMT", "UT", "Z"]).is_some() {
            return Some(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let hours = self.digits(2, 2)?;
        let minutes = if self.eat(b':') {
            self.digits(2, 2)?
        } else {
            self.digits(2, 2).unwrap_or(0)
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(sign * (hours * 60 + minutes) as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Classified as _;

    /// `date -d '2005-04-07T22:13:13+02:00' +%s`
    const APRIL_7_2005: i64 = 1_112_904_793;

    fn at(seconds: i64, offset_minutes: i32) -> Option<GitTime> {
        Some(GitTime {
            seconds,
            offset_minutes,
        })
    }

    #[test]
    fn parses_the_formats_git_documents() {
        let cases = [
            ("@1112904793 +0200", at(APRIL_7_2005, 120)),
            ("1112904793 +0200", at(APRIL_7_2005, 120)),
            ("@1112904793", at(APRIL_7_2005, 0)),
            ("1112904793 -0730", at(APRIL_7_2005, -450)),
            ("Thu, 07 Apr 2005 22:13:13 +0200", at(APRIL_7_2005, 120)),
            ("Thu, 7 Apr 2005 22:13:13 +0200", at(APRIL_7_2005, 120)),
            ("07 Apr 2005 20:13:13 GMT", at(APRIL_7_2005, 0)),
            ("2005-04-07T22:13:13+02:00", at(APRIL_7_2005, 120)),
            ("2005-04-07 22:13:13 +0200", at(APRIL_7_2005, 120)),
            ("2005-04-07T20:13:13Z", at(APRIL_7_2005, 0)),
            ("2005-04-07T20:13:13.250Z", at(APRIL_7_2005, 0)),
            ("2005-04-07T15:13:13-05", at(APRIL_7_2005, -300)),
            ("Thu Apr 7 22:13:13 2005 +0200", at(APRIL_7_2005, 120)),
            ("  @0 +0000 ", at(0, 0)),
            ("1970-01-01T00:00:00Z", at(0, 0)),
            ("2000-02-29T12:00:00Z", at(951_825_600, 0)),
            ("1969-12-31T23:59:59Z", at(-1, 0)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_git_date(text), want, "{text:?}");
        }
    }

    #[test]
    fn refuses_ambiguous_or_broken_dates() {
        for text in [
            "",
            "yesterday",
            "1112904793",
            "2005-04-07T22:13:13",
            "2005-04-07",
            "2005-02-30T00:00:00Z",
            "2001-02-29T00:00:00Z",
            "2005-13-01T00:00:00Z",
            "2005-04-07T24:00:00Z",
            "2005-04-07T22:13:13+2400",
            "Thu, 07 Foo 2005 22:13:13 +0200",
            "@12x +0000",
            "@1 +0000 extra",
            "2005-04-07T22:13:13+02:00 trailing",
        ] {
            assert_eq!(parse_git_date(text), None, "{text:?} should be refused");
        }
    }

    fn config(text: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(&file, text).unwrap();
        let mut config = Config::new().unwrap();
        config
            .add_file(&file, git2::ConfigLevel::Local, false)
            .unwrap();
        (dir, config)
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn config_identity_is_used_when_env_is_silent() {
        let (_dir, config) = config("[user]\n\tname = Config User\n\temail = config@example.com\n");
        let id = Identity::from_env_and_config(&env_of(&[]), &config).unwrap();
        assert_eq!(id.author.name, "Config User");
        assert_eq!(id.author.email, "config@example.com");
        assert_eq!(id.committer, id.author);
        assert_eq!(id.author.when, None);
    }

    #[test]
    fn env_overrides_config_per_field_and_role() {
        let (_dir, config) = config(
            "[user]\n\tname = Config User\n\temail = config@example.com\n\
             [committer]\n\tname = Config Committer\n",
        );
        let env = env_of(&[
            ("GIT_AUTHOR_NAME", "Env Author"),
            ("GIT_AUTHOR_DATE", "@1112904793 +0200"),
            ("GIT_COMMITTER_EMAIL", "committer@example.com"),
            ("GIT_COMMITTER_DATE", "2005-04-07T22:13:13+02:00"),
        ]);
        let id = Identity::from_env_and_config(&env, &config).unwrap();
        assert_eq!(
            id.author,
            Person {
                name: "Env Author".into(),
                email: "config@example.com".into(),
                when: at(APRIL_7_2005, 120),
            }
        );
        assert_eq!(
            id.committer,
            Person {
                name: "Config Committer".into(),
                email: "committer@example.com".into(),
                when: at(APRIL_7_2005, 120),
            }
        );
        let (author, committer) = id.signatures().unwrap();
        assert_eq!(author.name().unwrap(), "Env Author");
        assert_eq!(author.when().seconds(), APRIL_7_2005);
        assert_eq!(author.when().offset_minutes(), 120);
        assert_eq!(committer.email().unwrap(), "committer@example.com");
    }

    #[test]
    fn email_falls_back_to_the_email_variable() {
        let (_dir, config) = config("[user]\n\tname = U\n");
        let id =
            Identity::from_env_and_config(&env_of(&[("EMAIL", "fallback@example.com")]), &config)
                .unwrap();
        assert_eq!(id.author.email, "fallback@example.com");
    }

    #[test]
    fn missing_or_empty_identity_is_reported() {
        let (_dir, config) = config("[user]\n\temail = e@example.com\n");
        let err = Identity::from_env_and_config(&env_of(&[("GIT_AUTHOR_NAME", "  ")]), &config)
            .unwrap_err();
        assert!(
            matches!(
                err,
                RepoError::NoIdentity {
                    missing: "author name"
                }
            ),
            "{err:?}"
        );
        let err = Identity::from_env_and_config(&env_of(&[("GIT_AUTHOR_NAME", "A")]), &config)
            .unwrap_err();
        assert!(
            matches!(
                err,
                RepoError::NoIdentity {
                    missing: "committer name"
                }
            ),
            "{err:?}"
        );
        assert!(err.hint().unwrap().contains("user.name"));
    }

    #[test]
    fn bad_dates_name_the_variable() {
        let (_dir, config) = config("[user]\n\tname = U\n\temail = u@example.com\n");
        let err = Identity::from_env_and_config(
            &env_of(&[("GIT_COMMITTER_DATE", "last tuesday")]),
            &config,
        )
        .unwrap_err();
        match err {
            RepoError::InvalidDate { variable, value } => {
                assert_eq!(variable, "GIT_COMMITTER_DATE");
                assert_eq!(value, "last tuesday");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unset_dates_share_one_now() {
        let id = Identity {
            author: Person {
                name: "A".into(),
                email: "a@example.com".into(),
                when: None,
            },
            committer: Person {
                name: "C".into(),
                email: "c@example.com".into(),
                when: None,
            },
        };
        let (author, committer) = id.signatures().unwrap();
        assert_eq!(author.when(), committer.when());
        assert!(author.when().seconds() > APRIL_7_2005);
    }
}
