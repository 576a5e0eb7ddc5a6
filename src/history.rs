//! Release history read back from commit trailers. It owns the one definition of the
//! `Greenlight-*` trailer keys and of a release commit's message (subject, body, trailer
//! block), both for writing it and for reading it back, walks history lazily (newest first,
//! through every parent) so a caller that needs only the newest promotion reads only the
//! commits up to it, and folds the records of an environment into the release state the
//! guards and `status` read. A commit that releases several environments at once carries one
//! trailer group per environment (see [`format_trailer_groups`]). A walk that reaches the end
//! of a shallow clone's history asks `repo` to fetch more of it (it may not stop there: what
//! lies beyond can change the answer). It writes nothing else and prints nothing; `repo` and
//! this module are the only users of git2.

use std::collections::{BTreeMap, BinaryHeap, HashSet, VecDeque};

use git2::Oid;

use crate::release::{Action, RecordedAction, ReleaseState};
use crate::repo::{Repo, RepoError};

/// Trailer key: what greenlight did (`stage`, `promote`, `rollback`, `scale-down`, ...).
pub const ACTION: &str = "Greenlight-Action";
/// Trailer key: the environment acted on, e.g. `production/eu-west`.
pub const ENVIRONMENT: &str = "Greenlight-Environment";
/// Trailer key: the colour live after the commit.
pub const LIVE: &str = "Greenlight-Live";
/// Trailer key: the colour live before the commit.
pub const PREVIOUS: &str = "Greenlight-Previous";
/// Trailer key: the image (reference with tag or digest) the action concerns.
pub const IMAGE: &str = "Greenlight-Image";
/// Trailer key: the SHA-256 of the values file as committed.
pub const VALUES_SHA256: &str = "Greenlight-Values-Sha256";

/// The `Greenlight-*` trailers of one release commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trailers {
    /// `Greenlight-Action`.
    pub action: String,
    /// `Greenlight-Environment`.
    pub environment: String,
    /// `Greenlight-Live`.
    pub live: Option<String>,
    /// `Greenlight-Previous`.
    pub previous: Option<String>,
    /// `Greenlight-Image`.
    pub image: Option<String>,
    /// `Greenlight-Values-Sha256`.
    pub values_sha256: Option<String>,
}

impl Trailers {
    /// Read the trailers of a commit message; `None` when it has no `Greenlight-Action`
    /// trailer (not a greenlight release commit). Keys match case-insensitively, like git;
    /// when a key repeats within one release, the last value wins. Of a commit that records
    /// several environments (see [`Trailers::parse_all`]) this is the last one, which is what
    /// a greenlight from before such commits reads too.
    pub fn parse(message: &str) -> Option<Trailers> {
        Trailers::parse_all(message).pop()
    }

    /// Read every release a commit message records, in order: one per environment. A
    /// commit of one environment has one trailer group; a commit of several repeats the
    /// group, each starting with `Greenlight-Action` (an `Action` that follows an
    /// `Environment` opens the next group, so repeated keys before it still read as one
    /// release, the last value winning). Groups without an `Action` are not releases.
    pub fn parse_all(message: &str) -> Vec<Trailers> {
        let Ok(parsed) = git2::message_trailers_strs(message) else {
            return Vec::new();
        };
        let mut groups = Vec::new();
        let mut action: Option<String> = None;
        let mut environment: Option<String> = None;
        let mut trailers = Trailers::default();
        let mut close = |action: &mut Option<String>,
                         environment: &mut Option<String>,
                         trailers: &mut Trailers| {
            let mut done = std::mem::take(trailers);
            if let Some(a) = action.take() {
                done.action = a;
                done.environment = environment.take().unwrap_or_default();
                groups.push(done);
            }
            *environment = None;
        };
        for (key, value) in parsed.iter() {
            let value = value.trim().to_string();
            let key = key.trim();
            let is = |name: &str| key.eq_ignore_ascii_case(name);
            if is(ACTION) {
                if environment.is_some() {
                    close(&mut action, &mut environment, &mut trailers);
                }
                action = Some(value);
            } else if is(ENVIRONMENT) {
                environment = Some(value);
            } else if is(LIVE) {
                trailers.live = Some(value);
            } else if is(PREVIOUS) {
                trailers.previous = Some(value);
            } else if is(IMAGE) {
                trailers.image = Some(value);
            } else if is(VALUES_SHA256) {
                trailers.values_sha256 = Some(value);
            }
        }
        close(&mut action, &mut environment, &mut trailers);
        groups
    }
}

/// The trailer block for `trailers`, one `Key: value` line each (absent values are left out),
/// ending in a newline. Line breaks inside a value would end the trailer, so they become
/// spaces.
pub fn format_trailers(trailers: &Trailers) -> String {
    let fields = [
        (ACTION, Some(&trailers.action)),
        (ENVIRONMENT, Some(&trailers.environment)),
        (LIVE, trailers.live.as_ref()),
        (PREVIOUS, trailers.previous.as_ref()),
        (IMAGE, trailers.image.as_ref()),
        (VALUES_SHA256, trailers.values_sha256.as_ref()),
    ];
    let mut block = String::new();
    for (key, value) in fields {
        if let Some(value) = value {
            block.push_str(key);
            block.push_str(": ");
            block.push_str(&one_line(value));
            block.push('\n');
        }
    }
    block
}

/// The trailer block of a commit that records several releases (one per environment): one
/// group per release, each as [`format_trailers`] writes it, in the order given — except
/// that a group missing a value another group has moves before it. A greenlight from before
/// multi-environment commits reads such a block key by key with the last value winning, so
/// it reads the last group, whole and never mixed with another environment's values.
pub fn format_trailer_groups(groups: &[Trailers]) -> String {
    let present = |t: &Trailers| {
        [&t.live, &t.previous, &t.image, &t.values_sha256]
            .iter()
            .filter(|v| v.is_some())
            .count()
    };
    let mut ordered: Vec<&Trailers> = groups.iter().collect();
    ordered.sort_by_key(|t| present(t));
    ordered.into_iter().map(format_trailers).collect()
}

/// A full commit message: the subject line, the body (when not empty) and the trailer block,
/// separated by blank lines so git (and [`Trailers::parse`]) find the trailers.
pub fn compose_message(subject: &str, body: &str, trailers: &Trailers) -> String {
    compose_message_groups(subject, body, std::slice::from_ref(trailers))
}

/// [`compose_message`] for a commit that records one release per environment of `groups`
/// (see [`format_trailer_groups`]); with one group it is exactly [`compose_message`].
pub fn compose_message_groups(subject: &str, body: &str, groups: &[Trailers]) -> String {
    let mut message = one_line(subject);
    message.push_str("\n\n");
    let body = body.trim();
    if !body.is_empty() {
        message.push_str(body);
        message.push_str("\n\n");
    }
    message.push_str(&format_trailer_groups(groups));
    message
}

fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One greenlight release commit, as read back from history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseRecord {
    /// The commit id, in hex.
    pub commit: String,
    /// The committer time, in seconds since the epoch.
    pub time: i64,
    /// `Greenlight-Action`.
    pub action: String,
    /// `Greenlight-Environment`.
    pub environment: String,
    /// `Greenlight-Live`.
    pub live: Option<String>,
    /// `Greenlight-Previous`.
    pub previous: Option<String>,
    /// `Greenlight-Image`.
    pub image: Option<String>,
    /// `Greenlight-Values-Sha256`.
    pub values_sha256: Option<String>,
    /// The commit's subject line.
    pub subject: String,
}

/// A lazy walk over release records, newest first; see [`records`].
pub struct Records<'r> {
    repo: &'r Repo,
    /// Where the walk started (what a shallow clone deepens from).
    tip: Oid,
    /// Commits to visit, newest committer time first (ties: higher id first, for determinism).
    queue: BinaryHeap<Queued>,
    /// Parents a shallow clone does not hold yet: the walk fetches more history before it
    /// goes on, as any of them may be newer than what is queued.
    beyond: Vec<Oid>,
    /// How many times the walk fetched more history.
    deepened: u32,
    /// Every commit ever queued, so merges do not visit a commit twice.
    seen: HashSet<Oid>,
    /// Whether the repository is a shallow clone (a missing parent is history to fetch).
    shallow: bool,
    environment: Option<String>,
    visited: usize,
    /// Records of the commit visited last not handed out yet (a commit of several
    /// environments records several).
    pending: VecDeque<ReleaseRecord>,
}

/// A commit waiting in the walk. A parent that could not be read is queued with the oldest
/// possible time, so its error surfaces only if the walk gets that far.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Queued {
    time: i64,
    id: Oid,
}

impl Records<'_> {
    fn enqueue(&mut self, id: Oid) {
        if !self.seen.insert(id) {
            return;
        }
        self.queue_commit(id, true);
    }

    fn queue_commit(&mut self, id: Oid, may_deepen: bool) {
        match self.repo.git().find_commit(id) {
            Ok(c) => self.queue.push(Queued {
                time: c.time().seconds(),
                id,
            }),
            Err(e) if self.shallow && may_deepen && e.code() == git2::ErrorCode::NotFound => {
                self.beyond.push(id)
            }
            Err(_) => self.queue.push(Queued { time: i64::MIN, id }),
        }
    }

    /// Fetches the history behind the commits in `beyond` and queues them.
    fn deepen(&mut self) -> Result<(), RepoError> {
        self.repo.deepen(self.tip, self.deepened)?;
        self.deepened += 1;
        for id in std::mem::take(&mut self.beyond) {
            // Still missing after a fetch: damaged, reported when the walk reaches it.
            self.queue_commit(id, false);
        }
        Ok(())
    }
}

/// The parents of `commit` as the commit object records them. libgit2 hides the parents of
/// a shallow clone's boundary commits (and keeps a commit it parsed so in its cache, also
/// after more history was fetched); the history walk must see them to fetch more.
fn recorded_parents(commit: &git2::Commit<'_>) -> Vec<Oid> {
    commit
        .raw_header_bytes()
        .split(|b| *b == b'\n')
        .filter_map(|line| line.strip_prefix(b"parent "))
        .filter_map(|hex| std::str::from_utf8(hex).ok())
        .filter_map(|hex| Oid::from_str(hex.trim()).ok())
        .collect()
}

impl Records<'_> {
    /// How many commits the walk has read so far.
    pub fn visited(&self) -> usize {
        self.visited
    }
}

impl Iterator for Records<'_> {
    type Item = Result<ReleaseRecord, RepoError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // The records of the commit visited last come first: they are newer than
            // anything a deepening fetches.
            if let Some(record) = self.pending.pop_front() {
                return Some(Ok(record));
            }
            if !self.beyond.is_empty() {
                if let Err(e) = self.deepen() {
                    self.beyond.clear();
                    self.queue.clear();
                    return Some(Err(e));
                }
            }
            let id = self.queue.pop()?.id;
            let commit = match self.repo.git().find_commit(id) {
                Ok(commit) => commit,
                Err(source) => {
                    return Some(Err(RepoError::Git {
                        operation: "read a commit of the history",
                        source,
                    }))
                }
            };
            self.visited += 1;
            for parent in recorded_parents(&commit) {
                self.enqueue(parent);
            }
            let message = String::from_utf8_lossy(commit.message_bytes());
            let subject = commit
                .summary_bytes()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default();
            for trailers in Trailers::parse_all(&message) {
                if let Some(wanted) = &self.environment {
                    if trailers.environment != *wanted {
                        continue;
                    }
                }
                self.pending.push_back(ReleaseRecord {
                    commit: id.to_string(),
                    time: commit.time().seconds(),
                    action: trailers.action,
                    environment: trailers.environment,
                    live: trailers.live,
                    previous: trailers.previous,
                    image: trailers.image,
                    values_sha256: trailers.values_sha256,
                    subject: subject.clone(),
                });
            }
        }
    }
}

/// The release commits reachable from `tip` (through every parent, so release commits merged
/// in by a pull request count), newest committer time first like `git log`, that carry a
/// `Greenlight-Action` trailer (and, when `environment` is given, that
/// `Greenlight-Environment`). Commits are read as the iterator is advanced (a commit's parents
/// are looked up when it is visited); a commit that cannot be read ends the walk with an
/// error item when the walk reaches it.
pub fn records<'r>(
    repo: &'r Repo,
    tip: Oid,
    environment: Option<&str>,
) -> Result<Records<'r>, RepoError> {
    repo.git()
        .find_commit(tip)
        .map_err(RepoError::git("read the history's starting commit"))?;
    let mut walk = Records {
        repo,
        tip,
        queue: BinaryHeap::new(),
        beyond: Vec::new(),
        deepened: 0,
        shallow: !repo.shallow_boundary()?.is_empty(),
        seen: HashSet::new(),
        environment: environment.map(str::to_string),
        visited: 0,
        pending: VecDeque::new(),
    };
    walk.enqueue(tip);
    Ok(walk)
}

/// What one walk of an environment's history yields: the guards' state and the full records
/// of the newest promotion and the newest traffic switch (for `status`).
#[derive(Default)]
pub struct HistoryScan {
    /// The state the release guards need.
    pub state: ReleaseState,
    /// The newest stage, promote or rollback, as recorded (the full commit id the guards'
    /// state shortens).
    pub last_transition: Option<ReleaseRecord>,
    /// The newest promotion, as recorded.
    pub last_promotion: Option<ReleaseRecord>,
    /// The newest promotion or rollback (a traffic switch), as recorded.
    pub last_flip: Option<ReleaseRecord>,
}

/// What a walk of an environment's history must find before it may stop: a command reads
/// no further back than its guards need, which matters most in a shallow clone, where
/// reading further means fetching more history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// The newest stage, promote or rollback (stage, promote and rollback guards).
    Transition,
    /// The newest promotion (the scale-down warm period).
    Promotion,
    /// Nothing (an in-place reconfigure has no history guard).
    Nothing,
    /// All of [`HistoryScan`] (`status`).
    Everything,
}

impl HistoryScan {
    /// Whether what `need` asks for is known.
    fn has(&self, need: Need) -> bool {
        match need {
            Need::Transition => self.state.last_transition.is_some(),
            Need::Promotion => self.state.last_promotion.is_some(),
            Need::Nothing => true,
            Need::Everything => self.complete(),
        }
    }

    /// Takes in the next older record of this environment; true once nothing older matters.
    fn fold(&mut self, record: ReleaseRecord) -> bool {
        let (Some(action), Some(live)) = (
            Action::parse(&record.action),
            record.live.as_deref().and_then(|l| l.parse().ok()),
        ) else {
            return self.complete();
        };
        let recorded = RecordedAction {
            action,
            live,
            previous: record.previous.as_deref().and_then(|p| p.parse().ok()),
            image: record.image.clone(),
            commit: crate::repo::short(&record.commit),
            time: record.time,
        };
        // A scale-down or an in-place reconfigure moves no release between colours: the
        // guards look past them to the stage, promote or rollback before.
        let transition = !matches!(action, Action::ScaleDown | Action::Reconfigure);
        if self.state.last_transition.is_none() && transition {
            self.state.last_transition = Some(recorded.clone());
            self.last_transition = Some(record.clone());
        }
        if self.last_flip.is_none() && matches!(action, Action::Promote | Action::Rollback) {
            self.last_flip = Some(record.clone());
        }
        if self.state.last_promotion.is_none() && action == Action::Promote {
            self.state.last_promotion = Some(recorded);
            self.last_promotion = Some(record);
        }
        self.complete()
    }

    fn complete(&self) -> bool {
        self.state.last_transition.is_some()
            && self.state.last_promotion.is_some()
            && self.last_flip.is_some()
    }
}

/// Reads the release state of `env` from the commit trailers reachable from `tip`: the newest
/// stage/promote/rollback, promotion and traffic switch. Stops walking once all are known.
pub fn scan_history(repo: &Repo, tip: Oid, env: &str) -> Result<HistoryScan, RepoError> {
    scan_for(repo, tip, env, Need::Everything)
}

/// The history the guard of `action` on `env` reads, from the trailers reachable from
/// `tip`: the walk stops as soon as that guard's part of the state is known (the newest
/// stage/promote/rollback with its record, or for a scale-down the newest promotion). The
/// other parts may be left unknown.
pub fn guard_scan(
    repo: &Repo,
    tip: Oid,
    env: &str,
    action: Action,
) -> Result<HistoryScan, RepoError> {
    let need = match action {
        Action::Stage | Action::Promote | Action::Rollback => Need::Transition,
        Action::ScaleDown => Need::Promotion,
        Action::Reconfigure => Need::Nothing,
    };
    scan_for(repo, tip, env, need)
}

fn scan_for(repo: &Repo, tip: Oid, env: &str, need: Need) -> Result<HistoryScan, RepoError> {
    let mut scan = HistoryScan::default();
    if scan.has(need) {
        return Ok(scan);
    }
    for record in records(repo, tip, Some(env))? {
        scan.fold(record?);
        if scan.has(need) {
            break;
        }
    }
    Ok(scan)
}

/// [`scan_history`] for many environments in one walk of history (so `status` of a fleet
/// reads each commit once), stopping once every environment is complete.
pub fn scan_histories(
    repo: &Repo,
    tip: Oid,
    envs: &[String],
) -> Result<BTreeMap<String, HistoryScan>, RepoError> {
    let mut scans: BTreeMap<String, HistoryScan> = envs
        .iter()
        .map(|e| (e.clone(), HistoryScan::default()))
        .collect();
    let mut open = scans.len();
    for record in records(repo, tip, None)? {
        if open == 0 {
            break;
        }
        let record = record?;
        if let Some(scan) = scans.get_mut(&record.environment) {
            let was_complete = scan.complete();
            if scan.fold(record) && !was_complete {
                open -= 1;
            }
        }
    }
    Ok(scans)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::repo::{CommitOutcome, CommitRequest, GitTime, Identity, Person};

    fn trailers(action: &str, environment: &str) -> Trailers {
        Trailers {
            action: action.into(),
            environment: environment.into(),
            live: Some("green".into()),
            previous: Some("blue".into()),
            image: Some("registry.example.com/api:1.5.0".into()),
            values_sha256: Some("ab".repeat(32)),
        }
    }

    #[test]
    fn format_and_parse_round_trip() {
        let t = trailers("promote", "production/eu-west");
        let block = format_trailers(&t);
        assert_eq!(
            block,
            format!(
                "Greenlight-Action: promote\n\
                 Greenlight-Environment: production/eu-west\n\
                 Greenlight-Live: green\n\
                 Greenlight-Previous: blue\n\
                 Greenlight-Image: registry.example.com/api:1.5.0\n\
                 Greenlight-Values-Sha256: {}\n",
                "ab".repeat(32)
            )
        );
        let message = compose_message(
            "promote(production/eu-west): api blue → green (1.5.0)",
            "Some body.\nKey: value in the body is not a trailer\n\nSecond paragraph.",
            &t,
        );
        assert_eq!(Trailers::parse(&message), Some(t));
    }

    #[test]
    fn absent_values_are_left_out_and_read_back_as_none() {
        let t = Trailers {
            action: "scale-down".into(),
            environment: "staging".into(),
            ..Trailers::default()
        };
        assert_eq!(
            format_trailers(&t),
            "Greenlight-Action: scale-down\nGreenlight-Environment: staging\n"
        );
        assert_eq!(
            Trailers::parse(&compose_message("scale-down(staging)", "", &t)),
            Some(t)
        );
    }

    #[test]
    fn line_breaks_cannot_forge_trailers() {
        let t = Trailers {
            action: "stage".into(),
            environment: "prod\nGreenlight-Action: promote".into(),
            ..Trailers::default()
        };
        let message = compose_message("subject\nGreenlight-Action: x", "", &t);
        let parsed = Trailers::parse(&message).unwrap();
        assert_eq!(parsed.action, "stage");
        assert_eq!(parsed.environment, "prod Greenlight-Action: promote");
        assert!(message.starts_with("subject Greenlight-Action: x\n\n"));
    }

    #[test]
    fn parse_ignores_non_release_messages_and_takes_the_last_repeat() {
        assert_eq!(
            Trailers::parse("fix typo\n\nSigned-off-by: A <a@x>\n"),
            None
        );
        assert_eq!(
            Trailers::parse("only a subject Greenlight-Action: promote"),
            None
        );
        let t = Trailers::parse(
            "s\n\ngreenlight-action: stage\nGreenlight-Action: promote\n\
             Greenlight-Environment: a\nGREENLIGHT-ENVIRONMENT: b\nSigned-off-by: A <a@x>\n",
        )
        .unwrap();
        assert_eq!(t.action, "promote");
        assert_eq!(t.environment, "b");
        assert_eq!(t.live, None);
    }

    fn identity(seconds: i64) -> Identity {
        let person = Person {
            name: "Bot".into(),
            email: "bot@example.com".into(),
            when: Some(GitTime {
                seconds,
                offset_minutes: 0,
            }),
        };
        Identity {
            author: person.clone(),
            committer: person,
        }
    }

    /// A bare repository whose history is, oldest first, one commit per entry of `plan`
    /// (`Some((action, env))` for a release commit, `None` for an ordinary one).
    fn history(plan: &[Option<(&str, &str)>]) -> (tempfile::TempDir, Repo, Oid) {
        let dir = tempfile::tempdir().unwrap();
        let mut options = git2::RepositoryInitOptions::new();
        options.bare(true).initial_head("main");
        git2::Repository::init_opts(dir.path(), &options).unwrap();
        let repo = Repo::open(dir.path()).unwrap();
        let mut tip = None;
        for (n, step) in plan.iter().enumerate() {
            let message = match step {
                Some((action, env)) => {
                    compose_message(&format!("{action}({env})"), "", &trailers(action, env))
                }
                None => format!("chore {n}"),
            };
            let req = CommitRequest {
                refname: "refs/heads/main".into(),
                expected_old: tip,
                changes: BTreeMap::from([("n".to_string(), Some(n.to_string().into_bytes()))]),
                message,
                update_worktree: false,
                allow_empty: false,
            };
            match repo.commit_as(&req, &identity(1_000 + n as i64)).unwrap() {
                CommitOutcome::Committed { id, .. } => tip = Some(id),
                CommitOutcome::NoChange => unreachable!("every step changes `n`"),
            }
        }
        (dir, repo, tip.unwrap())
    }

    #[test]
    fn records_are_filtered_and_newest_first() {
        let (_dir, repo, tip) = history(&[
            Some(("stage", "prod")),
            None,
            Some(("promote", "staging")),
            Some(("promote", "prod")),
            None,
        ]);
        let all: Vec<ReleaseRecord> = records(&repo, tip, None)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let summary: Vec<(&str, &str, i64)> = all
            .iter()
            .map(|r| (r.action.as_str(), r.environment.as_str(), r.time))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("promote", "prod", 1_003),
                ("promote", "staging", 1_002),
                ("stage", "prod", 1_000)
            ]
        );
        assert_eq!(all[0].subject, "promote(prod)");
        assert_eq!(all[0].live.as_deref(), Some("green"));
        assert_eq!(all[0].commit.len(), 40);

        let prod: Vec<String> = records(&repo, tip, Some("prod"))
            .unwrap()
            .map(|r| r.unwrap().action)
            .collect();
        assert_eq!(prod, vec!["promote", "stage"]);
        assert_eq!(records(&repo, tip, Some("none")).unwrap().count(), 0);
    }

    #[test]
    fn records_read_only_as_far_as_asked() {
        let mut plan = vec![Some(("promote", "prod"))];
        plan.extend(std::iter::repeat_n(None, 150));
        plan.push(Some(("promote", "staging")));
        plan.push(Some(("stage", "prod")));
        let (_dir, repo, tip) = history(&plan);

        let mut walk = records(&repo, tip, None).unwrap();
        assert_eq!(walk.visited(), 0, "nothing is read before the first item");
        assert_eq!(walk.next().unwrap().unwrap().action, "stage");
        assert_eq!(walk.visited(), 1);

        let mut walk = records(&repo, tip, Some("staging")).unwrap();
        walk.next().unwrap().unwrap();
        assert_eq!(walk.visited(), 2);

        let mut walk = records(&repo, tip, Some("prod")).unwrap();
        walk.next().unwrap().unwrap();
        assert_eq!(walk.visited(), 1);
        assert_eq!(walk.next().unwrap().unwrap().action, "promote");
        assert_eq!(walk.visited(), plan.len());
        assert!(walk.next().is_none());
    }

    #[test]
    fn scan_looks_past_scale_down_and_reconfigure_to_the_last_transition() {
        let (_dir, repo, tip) = history(&[
            Some(("promote", "prod")),
            Some(("stage", "prod")),
            Some(("reconfigure", "prod")),
            Some(("scale-down", "prod")),
            Some(("reconfigure", "prod")),
        ]);
        let scan = scan_history(&repo, tip, "prod").unwrap();
        let last = scan.state.last_transition.unwrap();
        assert_eq!((last.action, last.time), (Action::Stage, 1_001));
        assert_eq!(scan.state.last_promotion.unwrap().time, 1_000);
        assert_eq!(scan.last_flip.unwrap().action, "promote");
    }

    /// How a greenlight from before multi-environment commits read trailers: key by key, the
    /// last value winning, one release per commit.
    fn read_like_before(message: &str) -> Option<Trailers> {
        let parsed = git2::message_trailers_strs(message).ok()?;
        let mut action = None;
        let mut t = Trailers::default();
        for (key, value) in parsed.iter() {
            let value = value.trim().to_string();
            let is = |name: &str| key.trim().eq_ignore_ascii_case(name);
            if is(ACTION) {
                action = Some(value);
            } else if is(ENVIRONMENT) {
                t.environment = value;
            } else if is(LIVE) {
                t.live = Some(value);
            } else if is(PREVIOUS) {
                t.previous = Some(value);
            } else if is(IMAGE) {
                t.image = Some(value);
            } else if is(VALUES_SHA256) {
                t.values_sha256 = Some(value);
            }
        }
        t.action = action?;
        Some(t)
    }

    #[test]
    fn a_commit_of_several_environments_reads_back_one_release_each() {
        let eu = trailers("promote", "production/eu-west/api");
        let mut us = trailers("promote", "production/us-east/api");
        us.live = Some("blue".into());
        us.previous = Some("green".into());
        us.image = Some("registry.example.com/api:1.4.0".into());
        let message = compose_message_groups(
            "promote(production/eu-west/api, production/us-east/api): api (1.5.0)",
            "body",
            &[eu.clone(), us.clone()],
        );
        assert_eq!(Trailers::parse_all(&message), vec![eu.clone(), us.clone()]);
        // A single release is written exactly as before.
        assert_eq!(
            compose_message_groups("s", "b", std::slice::from_ref(&eu)),
            compose_message("s", "b", &eu)
        );
        // What an older greenlight reads: the last environment, whole.
        assert_eq!(read_like_before(&message), Some(us.clone()));
        assert_eq!(Trailers::parse(&message), Some(us));
    }

    #[test]
    fn an_older_reader_never_mixes_two_environments() {
        // The second environment has no image (a scale-down of a colour without one): its
        // group goes first, so the last group, which an older reader sees, is complete.
        let with_image = trailers("scale-down", "a");
        let without = Trailers {
            image: None,
            ..trailers("scale-down", "b")
        };
        let message = compose_message_groups("s", "", &[with_image.clone(), without.clone()]);
        let all = Trailers::parse_all(&message);
        assert_eq!(all, vec![without, with_image.clone()]);
        assert_eq!(read_like_before(&message), Some(with_image));
    }

    #[test]
    fn history_and_scans_read_every_environment_of_a_shared_commit() {
        let (_dir, repo, tip) = history(&[Some(("stage", "prod")), Some(("stage", "qa"))]);
        // One commit that promotes both.
        let message = compose_message_groups(
            "promote(prod, qa)",
            "",
            &[trailers("promote", "prod"), trailers("promote", "qa")],
        );
        let req = CommitRequest {
            refname: "refs/heads/main".into(),
            expected_old: Some(tip),
            changes: BTreeMap::from([("n".to_string(), Some(b"both".to_vec()))]),
            message,
            update_worktree: false,
            allow_empty: false,
        };
        let CommitOutcome::Committed { id: both, .. } =
            repo.commit_as(&req, &identity(2_000)).unwrap()
        else {
            unreachable!("the commit changes `n`")
        };
        let all: Vec<(String, String)> = records(&repo, both, None)
            .unwrap()
            .map(|r| r.map(|r| (r.action, r.environment)).unwrap())
            .collect();
        assert_eq!(
            all,
            [
                ("promote".into(), "prod".into()),
                ("promote".into(), "qa".into()),
                ("stage".into(), "qa".into()),
                ("stage".into(), "prod".into()),
            ]
        );
        let qa: Vec<String> = records(&repo, both, Some("qa"))
            .unwrap()
            .map(|r| r.unwrap().commit)
            .collect();
        assert_eq!(qa[0], both.to_string());
        let scans = scan_histories(&repo, both, &["prod".into(), "qa".into()]).unwrap();
        for env in ["prod", "qa"] {
            let scan = &scans[env];
            assert_eq!(
                scan.last_promotion.as_ref().unwrap().commit,
                both.to_string()
            );
            assert_eq!(scan.last_transition.as_ref().unwrap().action, "promote");
            assert_eq!(scan_history(&repo, both, env).unwrap().state, scan.state);
        }
    }

    #[test]
    fn unknown_tip_is_an_error() {
        let (_dir, repo, _) = history(&[None]);
        let missing = Oid::from_str("2222222222222222222222222222222222222222").unwrap();
        assert!(matches!(
            records(&repo, missing, None),
            Err(RepoError::Git { .. })
        ));
    }
}
