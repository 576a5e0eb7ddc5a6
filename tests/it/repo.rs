//! `repo` and `history` against real git: repositories are made and inspected with the git
//! CLI in temporary directories, with a cleared, fixed environment.

use greenlight::error::Classified as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use greenlight::history::{self, compose_message, Trailers};
use greenlight::repo::{
    CommitOutcome, CommitRequest, GitTime, Identity, Oid, Person, Repo, RepoError,
};
use pretty_assertions::assert_eq;

const MAIN: &str = "refs/heads/main";

/// A temporary directory with a private HOME, and a git CLI that sees only a fixed
/// environment.
struct Sandbox {
    tmp: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("home")).unwrap();
        Sandbox { tmp }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn home(&self) -> PathBuf {
        self.path("home")
    }

    fn command(&self, program: &Path, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("LC_ALL", "C")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        cmd
    }

    fn git_output(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(Path::new("git"), dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_AUTHOR_DATE", "@1600000000 +0000")
            .env("GIT_COMMITTER_NAME", "Test Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.com")
            .env("GIT_COMMITTER_DATE", "@1600000000 +0000")
            .output()
            .expect("the git CLI runs")
    }

    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_output(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed in {}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A checkout on `main` with one commit holding `files`.
    fn checkout(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.path(name);
        self.git(self.tmp.path(), &["init", "-q", "-b", "main", name]);
        for (path, content) in files {
            write(&dir, path, content);
        }
        self.git(&dir, &["add", "-A"]);
        self.git(&dir, &["commit", "-q", "-m", "initial"]);
        dir
    }

    fn status(&self, dir: &Path) -> String {
        self.git(dir, &["status", "--porcelain", "--untracked-files=all"])
    }

    fn rev(&self, dir: &Path, rev: &str) -> Oid {
        Oid::from_str(self.git(dir, &["rev-parse", rev]).trim()).unwrap()
    }

    fn fsck(&self, dir: &Path) {
        self.git(dir, &["fsck", "--strict", "--no-progress"]);
    }
}

fn write(dir: &Path, path: &str, content: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap()
}

fn bot() -> Identity {
    let person = Person {
        name: "Greenlight Bot".into(),
        email: "bot@example.com".into(),
        when: Some(GitTime {
            seconds: 1_700_000_000,
            offset_minutes: 60,
        }),
    };
    Identity {
        author: person.clone(),
        committer: person,
    }
}

fn request(expected_old: Option<Oid>, changes: &[(&str, Option<&str>)]) -> CommitRequest {
    CommitRequest {
        refname: MAIN.into(),
        expected_old,
        changes: changes
            .iter()
            .map(|(p, c)| (p.to_string(), c.map(|c| c.as_bytes().to_vec())))
            .collect(),
        message: "promote(prod): api blue → green (1.5.0)\n\nA body.\n".into(),
        update_worktree: true,
        allow_empty: false,
    }
}

fn committed(outcome: CommitOutcome) -> Oid {
    match outcome {
        CommitOutcome::Committed { id, .. } => id,
        CommitOutcome::NoChange => panic!("expected a commit, got NoChange"),
    }
}

#[test]
fn commit_on_an_unborn_branch_creates_it_and_the_files() {
    let sb = Sandbox::new();
    let dir = sb.path("fresh");
    let repo = Repo::init(&dir, "main").unwrap();
    assert_eq!(repo.head_branch().unwrap(), MAIN);
    assert_eq!(repo.branch_tip(MAIN).unwrap(), None);

    let outcome = repo
        .commit_as(
            &request(
                None,
                &[
                    ("environments/prod/values.yaml", Some("app: api\n")),
                    ("rendered/prod/api.service.yaml", Some("kind: Service\n")),
                ],
            ),
            &bot(),
        )
        .unwrap();
    let id = committed(outcome);
    assert_eq!(outcome, CommitOutcome::Committed { id, parent: None });
    assert_eq!(sb.rev(&dir, "HEAD"), id);
    assert_eq!(sb.status(&dir), "");
    assert_eq!(read(&dir, "environments/prod/values.yaml"), "app: api\n");
    assert_eq!(
        sb.git(
            &dir,
            &["log", "--format=%an <%ae> %ad|%cn|%s", "--date=raw"]
        ),
        "Greenlight Bot <bot@example.com> 1700000000 +0100|Greenlight Bot|\
         promote(prod): api blue → green (1.5.0)\n"
    );
    sb.fsck(&dir);
}

#[test]
fn commit_in_a_checkout_updates_files_and_index_of_exactly_its_paths() {
    let sb = Sandbox::new();
    let dir = sb.checkout(
        "work",
        &[
            ("environments/prod/values.yaml", "liveColor: blue\n"),
            ("rendered/prod/api.service.yaml", "color: blue\n"),
            ("unrelated.txt", "mine\n"),
            ("scripts/run.sh", "#!/bin/sh\necho v1\n"),
        ],
    );
    sb.git(&dir, &["update-index", "--chmod=+x", "scripts/run.sh"]);
    sb.git(&dir, &["commit", "-q", "-m", "chmod"]);
    sb.git(&dir, &["checkout", "-q", "--", "scripts/run.sh"]);
    // A user edit elsewhere must survive untouched.
    write(&dir, "unrelated.txt", "my uncommitted edit\n");

    let repo = Repo::discover(&dir.join("environments")).unwrap();
    let old = repo.branch_tip(MAIN).unwrap();
    let id = committed(
        repo.commit_as(
            &request(
                old,
                &[
                    ("environments/prod/values.yaml", Some("liveColor: green\n")),
                    ("rendered/prod/api.service.yaml", Some("color: green\n")),
                    ("rendered/prod/new/api.extra.yaml", Some("new: true\n")),
                    ("scripts/run.sh", Some("#!/bin/sh\necho v2\n")),
                ],
            ),
            &bot(),
        )
        .unwrap(),
    );
    assert_eq!(sb.rev(&dir, "HEAD"), id);
    assert_eq!(sb.rev(&dir, "HEAD~1"), old.unwrap());
    // Before anything refreshes the index: the stat data written for the new entries must
    // already match the files (plumbing does not rehash what `status` would).
    assert_eq!(
        sb.git(&dir, &["diff-files", "--name-only"]),
        "unrelated.txt\n"
    );
    assert_eq!(sb.status(&dir), " M unrelated.txt\n");
    assert_eq!(read(&dir, "unrelated.txt"), "my uncommitted edit\n");
    assert_eq!(
        sb.git(&dir, &["diff", "--name-only", "HEAD~1", "HEAD"]),
        "environments/prod/values.yaml\nrendered/prod/api.service.yaml\n\
         rendered/prod/new/api.extra.yaml\nscripts/run.sh\n"
    );
    assert_eq!(
        sb.git(&dir, &["diff", "HEAD~1", "--stat", "--", "scripts"]),
        " scripts/run.sh | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n"
    );
    assert_eq!(
        read(&dir, "rendered/prod/new/api.extra.yaml"),
        "new: true\n"
    );
    assert_eq!(
        sb.git(&dir, &["ls-files", "-s", "scripts/run.sh"])
            .split(' ')
            .next(),
        Some("100755"),
        "an executable file stays executable"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("scripts/run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o100, 0, "the checkout file is executable too");
    }
    assert_eq!(
        sb.git(&dir, &["reflog", "-1", "--format=%gs"]),
        "greenlight: promote(prod): api blue → green (1.5.0)\n"
    );
    sb.fsck(&dir);
}

/// What git makes of the index a commit in a checkout left: nothing staged or modified,
/// every valid cache tree node true (git checks them before it writes an index when
/// `GIT_TEST_CHECK_CACHE_TREE` is set), a sound repository.
fn assert_index_in_step(sb: &Sandbox, dir: &Path, context: &str) {
    assert_eq!(sb.status(dir), "", "{context}: status");
    assert_eq!(
        sb.git(dir, &["diff", "--cached", "--name-only"]),
        "",
        "{context}"
    );
    assert_eq!(sb.git(dir, &["diff-files", "--name-only"]), "", "{context}");
    sb.fsck(dir);
    let out = sb
        .command(Path::new("git"), dir)
        .args(["update-index", "--force-write-index"])
        .env("GIT_TEST_CHECK_CACHE_TREE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{context}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sb.git(dir, &["write-tree"]),
        sb.git(dir, &["rev-parse", "HEAD^{tree}"]),
        "{context}"
    );
}

#[test]
fn commits_in_a_checkout_leave_an_index_git_reads_whatever_its_format() {
    // Each set-up: git commands run in the checkout before the commits, and the index
    // version expected after them (git's own, or libgit2's for the formats greenlight
    // leaves to it).
    let cases: [(&str, &[&[&str]], u32); 6] = [
        ("plain", &[], 2),
        (
            "intent-to-add",
            &[&["add", "-f", "-N", "notes/later.txt"]],
            3,
        ),
        ("version 4", &[&["update-index", "--index-version", "4"]], 4),
        (
            "untracked cache, end-of-entries marker, offset table",
            &[
                &["config", "core.untrackedCache", "true"],
                &["config", "index.recordEndOfIndexEntries", "true"],
                &["config", "index.recordOffsetTable", "true"],
                &["config", "index.threads", "2"],
                &["status", "--porcelain"],
                &["update-index", "--force-write-index"],
            ],
            2,
        ),
        (
            "resolve-undo record",
            &[&["resolve", "rendered/staging/api.service.yaml"]],
            2,
        ),
        ("no cache tree", &[&["read-tree", "HEAD"]], 2),
    ];
    for (name, setup, version) in cases {
        let sb = Sandbox::new();
        let dir = sb.checkout(
            "work",
            &[
                ("environments/prod/values.yaml", "liveColor: blue\n"),
                ("rendered/prod/api.service.yaml", "color: blue\n"),
                ("rendered/prod/api-blue.deployment.yaml", "blue\n"),
                ("rendered/staging/api.service.yaml", "color: blue\n"),
                ("notes/later.txt", "later\n"),
            ],
        );
        sb.git(&dir, &["rm", "-q", "--cached", "notes/later.txt"]);
        sb.git(&dir, &["commit", "-q", "-m", "untrack"]);
        write(&dir, ".gitignore", "notes/\n");
        sb.git(&dir, &["add", ".gitignore"]);
        sb.git(&dir, &["commit", "-q", "-m", "ignore"]);
        for args in setup {
            if args[0] == "resolve" {
                // A conflict's stages, resolved by `git add`, which records them.
                let blob = sb.git(
                    &dir,
                    &["rev-parse", "HEAD:rendered/staging/api.service.yaml"],
                );
                let info = format!(
                    "0 {zero} 0\t{path}\n100644 {blob} 1\t{path}\n100644 {blob} 2\t{path}\n",
                    zero = "0".repeat(40),
                    blob = blob.trim(),
                    path = args[1],
                );
                let mut child = sb
                    .command(Path::new("git"), &dir)
                    .args(["update-index", "--index-info"])
                    .stdin(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write as _;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(info.as_bytes())
                    .unwrap();
                assert!(child.wait().unwrap().success());
                sb.git(&dir, &["add", args[1]]);
                assert!(
                    sb.git(&dir, &["ls-files", "--resolve-undo"])
                        .contains(args[1]),
                    "{name}"
                );
                continue;
            }
            sb.git(&dir, args);
        }
        let repo = Repo::open(&dir).unwrap();
        for (round, color) in ["green", "blue", "green"].into_iter().enumerate() {
            let old = repo.branch_tip(MAIN).unwrap();
            let content = format!("liveColor: {color}\n");
            let service = format!("color: {color}\n");
            let mut changes: Vec<(&str, Option<&str>)> = vec![
                ("environments/prod/values.yaml", Some(&content)),
                ("rendered/prod/api.service.yaml", Some(&service)),
            ];
            match round {
                0 => changes.push(("rendered/prod/api-green.deployment.yaml", Some("green\n"))),
                1 => changes.push(("rendered/prod/api-green.deployment.yaml", None)),
                _ => changes.push(("rendered/new/deep/file.yaml", Some("new\n"))),
            }
            committed(repo.commit_as(&request(old, &changes), &bot()).unwrap());
            let context = format!("{name}, round {round}");
            if name == "intent-to-add" {
                // The intent-to-add entry stays as git left it.
                assert_eq!(sb.status(&dir), " A notes/later.txt\n", "{context}");
                continue;
            }
            assert_index_in_step(&sb, &dir, &context);
        }
        let index = std::fs::read(dir.join(".git/index")).unwrap();
        assert_eq!(
            u32::from_be_bytes(index[4..8].try_into().unwrap()),
            version,
            "{name}"
        );
        if name == "resolve-undo record" {
            assert!(
                sb.git(&dir, &["ls-files", "--resolve-undo"])
                    .contains("staging"),
                "{name}: kept"
            );
        }
    }
}

#[test]
fn an_edit_only_the_old_index_could_see_stays_visible() {
    // git trusts an entry's stat data only if its file was modified before the second the
    // index was written; a new index must not vouch for an entry the old one could not.
    let set_mtime = |path: &Path, time: std::time::SystemTime| {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(time)
            .unwrap();
    };
    for version in ["2", "4"] {
        let sb = Sandbox::new();
        let dir = sb.checkout(
            "work",
            &[("a.yaml", "one\n"), ("rendered/prod/x.yaml", "blue\n")],
        );
        sb.git(&dir, &["update-index", "--index-version", version]);
        let stamp = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
        set_mtime(&dir.join("a.yaml"), stamp);
        sb.git(&dir, &["update-index", "--refresh"]);
        set_mtime(&dir.join(".git/index"), stamp);
        // Edited in that second, same size: only the content tells.
        write(&dir, "a.yaml", "two\n");
        set_mtime(&dir.join("a.yaml"), stamp);
        let modified = || {
            sb.git(
                &dir,
                &["-c", "core.trustctime=false", "diff-files", "--name-only"],
            )
        };
        assert_eq!(modified(), "a.yaml\n", "version {version}");

        let repo = Repo::open(&dir).unwrap();
        let old = repo.branch_tip(MAIN).unwrap();
        committed(
            repo.commit_as(
                &request(old, &[("rendered/prod/x.yaml", Some("green\n"))]),
                &bot(),
            )
            .unwrap(),
        );
        set_mtime(
            &dir.join(".git/index"),
            std::time::SystemTime::now() + std::time::Duration::from_secs(100),
        );
        assert_eq!(modified(), "a.yaml\n", "version {version}");
        assert_eq!(sb.status(&dir), " M a.yaml\n", "version {version}");
    }
}

#[test]
fn the_index_changed_between_prepare_and_finish_is_read_again() {
    let sb = Sandbox::new();
    let dir = sb.checkout(
        "work",
        &[
            ("environments/prod/values.yaml", "liveColor: blue\n"),
            ("rendered/prod/api.service.yaml", "color: blue\n"),
            ("notes.txt", "v1\n"),
        ],
    );
    let repo = Repo::open(&dir).unwrap();
    let old = repo.branch_tip(MAIN).unwrap();
    let change = request(
        old,
        &[("rendered/prod/api.service.yaml", Some("color: green\n"))],
    );
    // A change staged while the commit is pushed (between its two halves) stays staged.
    let prepared = repo.prepare_commit(&change).unwrap().unwrap();
    write(&dir, "notes.txt", "v2\n");
    sb.git(&dir, &["add", "notes.txt"]);
    repo.finish_commit(&prepared).unwrap();
    assert_eq!(sb.status(&dir), "M  notes.txt\n");
    assert_eq!(
        sb.git(&dir, &["diff", "--cached", "--name-only"]),
        "notes.txt\n"
    );
    sb.fsck(&dir);

    // One staged on a path the commit writes stops it.
    let old = repo.branch_tip(MAIN).unwrap();
    let change = request(
        old,
        &[("environments/prod/values.yaml", Some("liveColor: green\n"))],
    );
    let prepared = repo.prepare_commit(&change).unwrap().unwrap();
    write(&dir, "environments/prod/values.yaml", "liveColor: mine\n");
    sb.git(&dir, &["add", "environments/prod/values.yaml"]);
    write(&dir, "environments/prod/values.yaml", "liveColor: blue\n");
    let err = repo.finish_commit(&prepared).unwrap_err();
    assert!(
        matches!(&err, RepoError::DirtyPaths { paths } if paths == &["environments/prod/values.yaml"]),
        "{err:?}"
    );
    assert_eq!(repo.branch_tip(MAIN).unwrap(), old);
}

#[test]
fn a_split_or_sparse_index_is_refused_before_anything_is_written() {
    for (setup, undo) in [
        (
            &[&["update-index", "--split-index"][..]][..],
            "git update-index --no-split-index",
        ),
        (
            &[&[
                "sparse-checkout",
                "set",
                "--cone",
                "--sparse-index",
                "rendered",
            ][..]],
            "git sparse-checkout set --no-sparse-index",
        ),
    ] {
        let sb = Sandbox::new();
        let dir = sb.checkout(
            "work",
            &[
                ("environments/prod/values.yaml", "liveColor: blue\n"),
                ("rendered/prod/api.service.yaml", "color: blue\n"),
            ],
        );
        for args in setup {
            sb.git(&dir, args);
        }
        let index = std::fs::read(dir.join(".git/index")).unwrap();
        let repo = Repo::open(&dir).unwrap();
        let old = repo.branch_tip(MAIN).unwrap();
        let result = repo.commit_as(
            &request(
                old,
                &[("rendered/prod/api.service.yaml", Some("color: green\n"))],
            ),
            &bot(),
        );
        let err = result.expect_err("libgit2 reads neither");
        assert!(matches!(err, RepoError::Git { .. }), "{setup:?}: {err:?}");
        let hint = err.hint().unwrap_or_default();
        assert!(hint.contains(undo), "{setup:?}: {hint}");
        assert!(hint.contains("--clone"), "{setup:?}: {hint}");
        assert_eq!(repo.branch_tip(MAIN).unwrap(), old, "{setup:?}");
        assert_eq!(std::fs::read(dir.join(".git/index")).unwrap(), index);
        assert_eq!(
            read(&dir, "rendered/prod/api.service.yaml"),
            "color: blue\n"
        );
    }
}

#[test]
fn a_new_file_where_the_index_holds_a_staged_file_of_that_name_goes_through_libgit2() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("rendered/prod/api.service.yaml", "blue\n")]);
    // A file staged but not committed, then deleted from the checkout: the index holds
    // `rendered/new` where the commit puts a folder.
    write(&dir, "rendered/new", "staged\n");
    sb.git(&dir, &["add", "rendered/new"]);
    std::fs::remove_file(dir.join("rendered/new")).unwrap();
    let repo = Repo::open(&dir).unwrap();
    let old = repo.branch_tip(MAIN).unwrap();
    committed(
        repo.commit_as(
            &request(old, &[("rendered/new/file.yaml", Some("new\n"))]),
            &bot(),
        )
        .unwrap(),
    );
    // libgit2 replaces the file entry by the folder's, as `git add` would.
    assert_eq!(
        sb.git(&dir, &["ls-files"]),
        "rendered/new/file.yaml\nrendered/prod/api.service.yaml\n"
    );
    assert_index_in_step(&sb, &dir, "file to folder");
}

#[test]
fn deleting_paths_removes_files_index_entries_and_empty_directories() {
    let sb = Sandbox::new();
    let dir = sb.checkout(
        "work",
        &[
            ("rendered/old/a.yaml", "a\n"),
            ("rendered/old/deep/b.yaml", "b\n"),
            ("rendered/keep/c.yaml", "c\n"),
        ],
    );
    let repo = Repo::open(&dir).unwrap();
    let old = repo.branch_tip(MAIN).unwrap();
    committed(
        repo.commit_as(
            &request(
                old,
                &[
                    ("rendered/old/a.yaml", None),
                    ("rendered/old/deep/b.yaml", None),
                ],
            ),
            &bot(),
        )
        .unwrap(),
    );
    assert_eq!(sb.status(&dir), "");
    assert!(!dir.join("rendered/old").exists(), "emptied directories go");
    assert!(dir.join("rendered/keep/c.yaml").exists());
    assert_eq!(
        sb.git(&dir, &["diff", "--name-status", "HEAD~1", "HEAD"]),
        "D\trendered/old/a.yaml\nD\trendered/old/deep/b.yaml\n"
    );
    sb.fsck(&dir);
}

#[test]
fn identical_content_is_no_change_and_nothing_moves() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("values.yaml", "same\n")]);
    let repo = Repo::open(&dir).unwrap();
    let old = repo.branch_tip(MAIN).unwrap();
    let outcome = repo
        .commit_as(
            &request(old, &[("values.yaml", Some("same\n")), ("absent", None)]),
            &bot(),
        )
        .unwrap();
    assert_eq!(outcome, CommitOutcome::NoChange);
    assert_eq!(Some(sb.rev(&dir, "HEAD")), old);
    assert_eq!(sb.git(&dir, &["rev-list", "--count", "HEAD"]), "1\n");
    assert_eq!(sb.status(&dir), "");
}

/// Snapshot of everything a refused commit must leave alone.
fn snapshot(sb: &Sandbox, dir: &Path) -> (String, String, String, String) {
    (
        sb.git(dir, &["rev-parse", "HEAD"]),
        sb.status(dir),
        sb.git(dir, &["diff", "--cached"]),
        sb.git(dir, &["count-objects", "-v"]),
    )
}

#[test]
fn edits_in_the_checkout_are_never_overwritten() {
    type Setup = fn(&Sandbox, &Path);
    let cases: [(&str, Setup, &str); 4] = [
        (
            "modified",
            |_, dir| write(dir, "rendered/a.yaml", "hand edit\n"),
            "rendered/a.yaml",
        ),
        (
            "staged",
            |sb, dir| {
                write(dir, "rendered/a.yaml", "staged edit\n");
                sb.git(dir, &["add", "rendered/a.yaml"]);
                // The checkout file matches HEAD again; only the index differs.
                write(dir, "rendered/a.yaml", "a\n");
            },
            "rendered/a.yaml",
        ),
        (
            "untracked",
            |_, dir| write(dir, "rendered/new.yaml", "my own file\n"),
            "rendered/new.yaml",
        ),
        (
            "deleted",
            |_, dir| std::fs::remove_file(dir.join("rendered/a.yaml")).unwrap(),
            "rendered/a.yaml",
        ),
    ];
    for (name, setup, dirty_path) in cases {
        let sb = Sandbox::new();
        let dir = sb.checkout(
            "work",
            &[("rendered/a.yaml", "a\n"), ("values.yaml", "v\n")],
        );
        setup(&sb, &dir);
        let before = snapshot(&sb, &dir);
        let user_bytes = std::fs::read(dir.join(dirty_path)).ok();

        let repo = Repo::open(&dir).unwrap();
        let old = repo.branch_tip(MAIN).unwrap();
        let err = repo
            .commit_as(
                &request(
                    old,
                    &[
                        ("values.yaml", Some("v2\n")),
                        ("rendered/a.yaml", Some("generated a\n")),
                        ("rendered/new.yaml", Some("generated new\n")),
                    ],
                ),
                &bot(),
            )
            .unwrap_err();
        match &err {
            RepoError::DirtyPaths { paths } => assert_eq!(paths, &vec![dirty_path], "{name}"),
            other => panic!("{name}: unexpected {other:?}"),
        }
        assert!(err.hint().unwrap().contains(dirty_path), "{name}");
        assert_eq!(snapshot(&sb, &dir), before, "{name}: nothing changed");
        assert_eq!(
            std::fs::read(dir.join(dirty_path)).ok(),
            user_bytes,
            "{name}: the user's bytes are intact"
        );
        assert_eq!(read(&dir, "values.yaml"), "v\n", "{name}");
    }
}

#[test]
fn all_dirty_paths_are_reported_sorted() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("b.yaml", "b\n"), ("a/z.yaml", "z\n")]);
    write(&dir, "b.yaml", "edit\n");
    write(&dir, "a/z.yaml", "edit\n");
    write(&dir, "c.yaml", "untracked\n");
    let repo = Repo::open(&dir).unwrap();
    let old = repo.branch_tip(MAIN).unwrap();
    let err = repo
        .commit_as(
            &request(
                old,
                &[
                    ("c.yaml", Some("new\n")),
                    ("b.yaml", Some("new\n")),
                    ("a/z.yaml", Some("new\n")),
                ],
            ),
            &bot(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, RepoError::DirtyPaths { paths } if paths == &["a/z.yaml", "b.yaml", "c.yaml"]),
        "{err:?}"
    );
}

#[test]
fn an_edit_to_a_path_the_commit_leaves_unchanged_is_left_alone() {
    let sb = Sandbox::new();
    let dir = sb.checkout(
        "work",
        &[("rendered/a.yaml", "a\n"), ("values.yaml", "v\n")],
    );
    write(&dir, "rendered/a.yaml", "hand edit\n");
    let repo = Repo::open(&dir).unwrap();
    let old = repo.branch_tip(MAIN).unwrap();
    committed(
        repo.commit_as(
            &request(
                old,
                &[
                    ("values.yaml", Some("v2\n")),
                    ("rendered/a.yaml", Some("a\n")),
                ],
            ),
            &bot(),
        )
        .unwrap(),
    );
    assert_eq!(read(&dir, "rendered/a.yaml"), "hand edit\n");
    assert_eq!(sb.status(&dir), " M rendered/a.yaml\n");
    assert_eq!(
        sb.git(&dir, &["diff", "--name-only", "HEAD~1", "HEAD"]),
        "values.yaml\n"
    );
}

#[test]
fn an_edit_identical_to_the_new_content_is_not_in_the_way() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("rendered/a.yaml", "old\n")]);
    // E.g. `greenlight render` already wrote what the commit will contain.
    write(&dir, "rendered/a.yaml", "new\n");
    write(&dir, "rendered/b.yaml", "fresh\n");
    let repo = Repo::open(&dir).unwrap();
    let old = repo.branch_tip(MAIN).unwrap();
    committed(
        repo.commit_as(
            &request(
                old,
                &[
                    ("rendered/a.yaml", Some("new\n")),
                    ("rendered/b.yaml", Some("fresh\n")),
                ],
            ),
            &bot(),
        )
        .unwrap(),
    );
    assert_eq!(sb.status(&dir), "");
    sb.fsck(&dir);
}

#[test]
fn a_branch_moved_by_someone_else_is_refused() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("values.yaml", "v1\n")]);
    let repo = Repo::open(&dir).unwrap();
    let read_tip = repo.branch_tip(MAIN).unwrap();

    // Someone commits between our read and our write.
    write(&dir, "other.txt", "theirs\n");
    sb.git(&dir, &["add", "other.txt"]);
    sb.git(&dir, &["commit", "-q", "-m", "concurrent"]);
    let theirs = sb.rev(&dir, "HEAD");
    let objects = sb.git(&dir, &["count-objects", "-v"]);

    let err = repo
        .commit_as(&request(read_tip, &[("values.yaml", Some("v2\n"))]), &bot())
        .unwrap_err();
    match err {
        RepoError::BranchMoved {
            refname,
            expected,
            actual,
        } => {
            assert_eq!(refname, MAIN);
            assert_eq!(expected, read_tip);
            assert_eq!(actual, Some(theirs));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(sb.rev(&dir, "HEAD"), theirs);
    assert_eq!(sb.git(&dir, &["count-objects", "-v"]), objects);
    assert_eq!(read(&dir, "values.yaml"), "v1\n");
    assert_eq!(sb.status(&dir), "");

    // Recomputed on the new tip, it goes through.
    committed(
        repo.commit_as(
            &request(Some(theirs), &[("values.yaml", Some("v2\n"))]),
            &bot(),
        )
        .unwrap(),
    );
    assert_eq!(sb.status(&dir), "");
    sb.fsck(&dir);
}

#[test]
fn bare_repositories_get_objects_and_the_ref_only() {
    let sb = Sandbox::new();
    let bare = sb.path("origin.git");
    sb.git(
        sb.tmp.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    let repo = Repo::discover(&bare).unwrap();
    assert!(repo.is_bare());
    assert_eq!(repo.workdir(), None);
    let first = committed(
        repo.commit_as(
            &request(None, &[("environments/a/values.yaml", Some("a\n"))]),
            &bot(),
        )
        .unwrap(),
    );
    let second = committed(
        repo.commit_as(
            &request(
                Some(first),
                &[
                    ("environments/b/values.yaml", Some("b\n")),
                    ("environments/a/values.yaml", Some("a2\n")),
                ],
            ),
            &bot(),
        )
        .unwrap(),
    );
    assert_eq!(sb.rev(&bare, "main"), second);
    assert_eq!(
        sb.git(&bare, &["show", "main:environments/a/values.yaml"]),
        "a2\n"
    );
    assert_eq!(
        repo.find_files(second, "environments", "values.yaml")
            .unwrap(),
        vec!["environments/a/values.yaml", "environments/b/values.yaml"]
    );
    sb.fsck(&bare);

    sb.git(sb.tmp.path(), &["clone", "-q", "origin.git", "clone"]);
    assert_eq!(read(&sb.path("clone"), "environments/b/values.yaml"), "b\n");
}

#[test]
fn another_checked_out_branch_leaves_the_checkout_alone() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("values.yaml", "v1\n")]);
    sb.git(&dir, &["switch", "-q", "-c", "feature"]);
    write(&dir, "values.yaml", "feature work in progress\n");
    let repo = Repo::open(&dir).unwrap();
    assert_eq!(repo.head_branch().unwrap(), "refs/heads/feature");
    let old = repo.branch_tip(MAIN).unwrap();
    committed(
        repo.commit_as(
            &request(
                old,
                &[("values.yaml", Some("v2\n")), ("new.yaml", Some("n\n"))],
            ),
            &bot(),
        )
        .unwrap(),
    );
    assert_eq!(read(&dir, "values.yaml"), "feature work in progress\n");
    assert!(!dir.join("new.yaml").exists());
    assert_eq!(sb.status(&dir), " M values.yaml\n");
    assert_eq!(sb.git(&dir, &["show", "main:values.yaml"]), "v2\n");
    sb.fsck(&dir);
}

#[test]
fn a_linked_worktree_is_updated_when_its_branch_is_the_target() {
    let sb = Sandbox::new();
    let main_dir = sb.checkout("work", &[("values.yaml", "v1\n")]);
    sb.git(&main_dir, &["branch", "release"]);
    sb.git(
        &main_dir,
        &["worktree", "add", "-q", "../linked", "release"],
    );
    let linked = sb.path("linked");
    let repo = Repo::discover(&linked).unwrap();
    assert_eq!(repo.head_branch().unwrap(), "refs/heads/release");
    let old = repo.branch_tip("refs/heads/release").unwrap();
    let mut req = request(old, &[("values.yaml", Some("v2\n"))]);
    req.refname = "refs/heads/release".into();
    committed(repo.commit_as(&req, &bot()).unwrap());
    assert_eq!(read(&linked, "values.yaml"), "v2\n");
    assert_eq!(sb.status(&linked), "");
    assert_eq!(read(&main_dir, "values.yaml"), "v1\n");
    assert_eq!(sb.status(&main_dir), "");
    sb.fsck(&main_dir);
}

#[test]
fn invalid_paths_are_refused_before_anything_is_written() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("values.yaml", "v\n")]);
    let repo = Repo::open(&dir).unwrap();
    let old = repo.branch_tip(MAIN).unwrap();
    let before = snapshot(&sb, &dir);
    for bad in [
        "../outside.yaml",
        "/etc/passwd",
        "a//b",
        "a/./b",
        ".git/hooks/post-commit",
        "sub/.git/config",
        "",
    ] {
        let err = repo
            .commit_as(
                &request(old, &[("values.yaml", Some("v2\n")), (bad, Some("x"))]),
                &bot(),
            )
            .unwrap_err();
        assert!(
            matches!(&err, RepoError::InvalidPath { path, .. } if path == bad),
            "{bad:?}: {err:?}"
        );
    }
    assert_eq!(snapshot(&sb, &dir), before);
    assert!(!sb.path("outside.yaml").exists());
}

#[test]
fn trailers_are_readable_by_git_log() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("values.yaml", "liveColor: blue\n")]);
    let repo = Repo::open(&dir).unwrap();
    let trailers = Trailers {
        action: "promote".into(),
        environment: "production/eu-west".into(),
        live: Some("green".into()),
        previous: Some("blue".into()),
        image: Some("registry.example.com/api:1.5.0".into()),
        values_sha256: Some("0f".repeat(32)),
    };
    let mut req = request(
        repo.branch_tip(MAIN).unwrap(),
        &[("values.yaml", Some("liveColor: green\n"))],
    );
    req.message = compose_message(
        "promote(production/eu-west): api blue → green (1.5.0)",
        "Diff summary.",
        &trailers,
    );
    committed(repo.commit_as(&req, &bot()).unwrap());
    let log = |key: &str| {
        sb.git(
            &dir,
            &[
                "log",
                "-1",
                &format!("--format=%(trailers:key={key},valueonly)"),
            ],
        )
    };
    assert_eq!(log("Greenlight-Action"), "promote\n\n");
    assert_eq!(log("Greenlight-Environment"), "production/eu-west\n\n");
    assert_eq!(log("Greenlight-Live"), "green\n\n");
    assert_eq!(
        log("Greenlight-Image"),
        "registry.example.com/api:1.5.0\n\n"
    );
    assert_eq!(
        sb.git(&dir, &["log", "-1", "--format=%s"]),
        "promote(production/eu-west): api blue → green (1.5.0)\n"
    );
}

#[test]
fn history_is_filtered_newest_first() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("n", "0")]);
    let repo = Repo::open(&dir).unwrap();
    let steps = [
        ("stage", "prod", "green"),
        ("stage", "staging", "green"),
        ("promote", "prod", "green"),
        ("promote", "staging", "green"),
        ("rollback", "prod", "blue"),
    ];
    for (n, (action, env, live)) in steps.iter().enumerate() {
        let trailers = Trailers {
            action: action.to_string(),
            environment: env.to_string(),
            live: Some(live.to_string()),
            ..Trailers::default()
        };
        let mut req = request(
            repo.branch_tip(MAIN).unwrap(),
            &[("n", Some(&(n + 1).to_string()))],
        );
        req.message = compose_message(&format!("{action}({env})"), "", &trailers);
        let mut identity = bot();
        identity.committer.when = Some(GitTime {
            seconds: 1_700_000_000 + n as i64 * 60,
            offset_minutes: 0,
        });
        committed(repo.commit_as(&req, &identity).unwrap());
        // Ordinary commits in between are skipped.
        sb.git(&dir, &["commit", "-q", "--allow-empty", "-m", "chore"]);
    }
    let tip = repo.branch_tip(MAIN).unwrap().unwrap();
    let prod: Vec<(String, Option<String>, i64)> = history::records(&repo, tip, Some("prod"))
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            (r.action, r.live, r.time)
        })
        .collect();
    assert_eq!(
        prod,
        vec![
            ("rollback".into(), Some("blue".into()), 1_700_000_240),
            ("promote".into(), Some("green".into()), 1_700_000_120),
            ("stage".into(), Some("green".into()), 1_700_000_000),
        ]
    );
    let everything = history::records(&repo, tip, None).unwrap().count();
    assert_eq!(everything, steps.len());
    let newest = history::records(&repo, tip, Some("staging"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(newest.action, "promote");
    assert_eq!(newest.subject, "promote(staging)");
    assert_eq!(
        newest.commit,
        sb.git(
            &dir,
            &[
                "log",
                "--format=%H",
                "-1",
                "--grep=Greenlight-Environment: staging"
            ]
        )
        .trim()
    );
}

#[test]
fn history_stops_reading_once_it_has_what_was_asked() {
    let sb = Sandbox::new();
    let dir = sb.path("long");
    sb.git(sb.tmp.path(), &["init", "-q", "-b", "main", "long"]);
    // The root commit names a parent that does not exist: any walk that goes all the way
    // down fails, so a walk that succeeds after the newest record provably stopped early.
    let tree = sb.git(&dir, &["write-tree"]);
    let broken = format!(
        "tree {}\nparent {}\nauthor A <a@example.com> 1600000000 +0000\n\
         committer A <a@example.com> 1600000000 +0000\n\nbroken ancestry\n",
        tree.trim(),
        "1234567890123456789012345678901234567890"
    );
    std::fs::write(sb.path("broken.txt"), broken).unwrap();
    let root = sb.git(
        &dir,
        &[
            "hash-object",
            "-t",
            "commit",
            "-w",
            "--literally",
            sb.path("broken.txt").to_str().unwrap(),
        ],
    );
    sb.git(&dir, &["update-ref", MAIN, root.trim()]);
    for n in 0..200 {
        sb.git(
            &dir,
            &["commit", "-q", "--allow-empty", "-m", &format!("chore {n}")],
        );
    }
    let repo = Repo::open(&dir).unwrap();
    let trailers = Trailers {
        action: "promote".into(),
        environment: "prod".into(),
        ..Trailers::default()
    };
    let mut req = request(repo.branch_tip(MAIN).unwrap(), &[("n", Some("1"))]);
    req.message = compose_message("promote(prod)", "", &trailers);
    committed(repo.commit_as(&req, &bot()).unwrap());
    let tip = repo.branch_tip(MAIN).unwrap().unwrap();

    let mut walk = history::records(&repo, tip, Some("prod")).unwrap();
    assert_eq!(walk.next().unwrap().unwrap().action, "promote");
    assert_eq!(walk.visited(), 1);

    let full: Result<Vec<_>, _> = history::records(&repo, tip, Some("prod"))
        .unwrap()
        .collect();
    assert!(
        matches!(full, Err(RepoError::Git { .. })),
        "a full walk reaches the missing parent: {full:?}"
    );
}

/// Runs the ignored `child_commit` test in a fresh process with exactly `env`, and returns
/// its `RESULT ...` line.
fn run_child(sb: &Sandbox, repo_dir: &Path, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = sb.command(&exe, sb.tmp.path());
    cmd.env_remove("GIT_CONFIG_GLOBAL")
        .env_remove("GIT_CONFIG_NOSYSTEM")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GREENLIGHT_TEST_REPO", repo_dir)
        .args([
            "--exact",
            "repo::child_commit",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no RESULT line in:\n{stdout}"))
        .to_string()
}

/// Not a test on its own: `identity_comes_from_git_environment_and_config` runs it in a child
/// process with a controlled environment (the parent's environment is never mutated).
#[test]
#[ignore = "run by identity_comes_from_git_environment_and_config in a child process"]
fn child_commit() {
    let dir = PathBuf::from(std::env::var_os("GREENLIGHT_TEST_REPO").expect("set by the parent"));
    let repo = Repo::open(&dir).unwrap();
    let tip = repo.branch_tip(MAIN).unwrap();
    let n = std::env::var("CHILD_CONTENT").unwrap_or_default();
    let mut req = request(tip, &[("child.txt", Some(&n))]);
    req.message = "child commit".into();
    match repo.commit(&req) {
        Ok(outcome) => println!("RESULT {outcome:?}"),
        Err(err) => println!("RESULT error: {err}"),
    }
}

#[test]
fn identity_comes_from_git_environment_and_config() {
    let sb = Sandbox::new();
    let dir = sb.checkout("work", &[("values.yaml", "v\n")]);
    std::fs::write(
        sb.home().join(".gitconfig"),
        "[user]\n\tname = Home User\n\temail = home@example.com\n",
    )
    .unwrap();
    let other = sb.path("global.gitconfig");
    std::fs::write(
        &other,
        "[user]\n\tname = File User\n\temail = file@example.com\n",
    )
    .unwrap();
    let last = |sb: &Sandbox| {
        sb.git(
            &dir,
            &[
                "log",
                "-1",
                "--format=%an <%ae> %ad | %cn <%ce> %cd",
                "--date=raw",
            ],
        )
    };

    // ~/.gitconfig is read when nothing says otherwise.
    let result = run_child(&sb, &dir, &[("CHILD_CONTENT", "1")]);
    assert!(result.starts_with("Committed"), "{result}");
    assert!(
        last(&sb).starts_with("Home User <home@example.com> "),
        "{}",
        last(&sb)
    );

    // GIT_CONFIG_GLOBAL=/dev/null hides it: no identity at all.
    let result = run_child(
        &sb,
        &dir,
        &[("CHILD_CONTENT", "2"), ("GIT_CONFIG_GLOBAL", "/dev/null")],
    );
    assert_eq!(
        result, "error: no git identity: the author name is not set",
        "GIT_CONFIG_GLOBAL=/dev/null must hide ~/.gitconfig"
    );

    // GIT_CONFIG_GLOBAL names another file.
    let other_str = other.to_str().unwrap();
    run_child(
        &sb,
        &dir,
        &[("CHILD_CONTENT", "3"), ("GIT_CONFIG_GLOBAL", other_str)],
    );
    assert!(
        last(&sb).starts_with("File User <file@example.com> "),
        "{}",
        last(&sb)
    );

    // The repository's own config beats the global one, and GIT_* variables beat both.
    sb.git(&dir, &["config", "user.name", "Repo User"]);
    run_child(
        &sb,
        &dir,
        &[
            ("CHILD_CONTENT", "4"),
            ("GIT_CONFIG_GLOBAL", other_str),
            ("GIT_AUTHOR_EMAIL", "env-author@example.com"),
            ("GIT_AUTHOR_DATE", "2005-04-07T22:13:13+02:00"),
            ("GIT_COMMITTER_NAME", "Env Committer"),
            ("GIT_COMMITTER_DATE", "Thu, 07 Apr 2005 22:13:13 +0200"),
        ],
    );
    assert_eq!(
        last(&sb),
        "Repo User <env-author@example.com> 1112904793 +0200 | \
         Env Committer <file@example.com> 1112904793 +0200\n"
    );

    for (n, (date, raw)) in [
        ("@1112904793 -0500", "1112904793 -0500"),
        ("1112904793 +0000", "1112904793 +0000"),
        ("2005-04-07 22:13:13 +0200", "1112904793 +0200"),
        ("Thu Apr 7 22:13:13 2005 +0200", "1112904793 +0200"),
    ]
    .into_iter()
    .enumerate()
    {
        run_child(
            &sb,
            &dir,
            &[
                ("CHILD_CONTENT", &format!("date {n}")),
                ("GIT_CONFIG_GLOBAL", other_str),
                ("GIT_AUTHOR_DATE", date),
                ("GIT_COMMITTER_DATE", date),
            ],
        );
        let log = last(&sb);
        assert!(log.contains(&format!("> {raw} |")), "{date}: {log}");
        assert!(log.trim_end().ends_with(raw), "{date}: {log}");
    }

    let result = run_child(
        &sb,
        &dir,
        &[
            ("CHILD_CONTENT", "bad date"),
            ("GIT_CONFIG_GLOBAL", other_str),
            ("GIT_AUTHOR_DATE", "next friday"),
        ],
    );
    assert_eq!(
        result,
        "error: GIT_AUTHOR_DATE=\"next friday\" is not a date greenlight understands"
    );
    assert_eq!(sb.status(&dir), "");
    sb.fsck(&dir);
}

#[test]
fn errors_for_missing_repositories_name_the_path() {
    let sb = Sandbox::new();
    let nowhere = sb.path("not-a-repo");
    std::fs::create_dir(&nowhere).unwrap();
    let err = Repo::open(&nowhere).unwrap_err();
    assert!(matches!(&err, RepoError::NotARepository { path } if path == &nowhere));
    assert!(err.to_string().contains("not-a-repo"));
    assert!(err.hint().is_some());
}

#[test]
fn reads_come_from_the_commit_not_the_checkout() {
    let sb = Sandbox::new();
    let dir = sb.checkout(
        "work",
        &[
            ("rendered/prod/a.yaml", "a\n"),
            ("rendered/prod/b.yaml", "b\n"),
        ],
    );
    write(&dir, "rendered/prod/a.yaml", "uncommitted\n");
    write(&dir, "rendered/prod/c.yaml", "untracked\n");
    let repo = Repo::open(&dir).unwrap();
    let tip = repo.branch_tip(MAIN).unwrap().unwrap();
    let files = repo.read_dir_files(tip, "rendered/prod").unwrap();
    let expected: BTreeMap<String, Vec<u8>> = BTreeMap::from([
        ("rendered/prod/a.yaml".to_string(), b"a\n".to_vec()),
        ("rendered/prod/b.yaml".to_string(), b"b\n".to_vec()),
    ]);
    assert_eq!(files, expected);
    assert_eq!(
        repo.read_file(tip, "rendered/prod/a.yaml").unwrap(),
        Some(b"a\n".to_vec())
    );
}
