//! Unit tests of `Repo` against repositories built with git2 itself (the git CLI is exercised
//! by `tests/it/repo.rs`).

use super::*;

fn identity() -> Identity {
    let person = |name: &str| Person {
        name: name.to_string(),
        email: format!("{}@example.com", name.to_lowercase()),
        when: Some(GitTime {
            seconds: 1_112_904_793,
            offset_minutes: 120,
        }),
    };
    Identity {
        author: person("Author"),
        committer: person("Committer"),
    }
}

fn changes(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<Vec<u8>>> {
    pairs
        .iter()
        .map(|(p, c)| (p.to_string(), c.map(|c| c.as_bytes().to_vec())))
        .collect()
}

fn request(
    expected_old: Option<Oid>,
    pairs: &[(&str, Option<&str>)],
    message: &str,
) -> CommitRequest {
    CommitRequest {
        refname: "refs/heads/main".into(),
        expected_old,
        changes: changes(pairs),
        message: message.into(),
        update_worktree: true,
        allow_empty: false,
    }
}

fn commit_id(outcome: CommitOutcome) -> Oid {
    match outcome {
        CommitOutcome::Committed { id, .. } => id,
        CommitOutcome::NoChange => panic!("expected a commit"),
    }
}

fn bare() -> (tempfile::TempDir, Repo) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = git2::RepositoryInitOptions::new();
    options.bare(true).initial_head("main");
    Repository::init_opts(dir.path(), &options).unwrap();
    let repo = Repo::open(dir.path()).unwrap();
    (dir, repo)
}

#[test]
fn first_commit_on_an_unborn_branch_creates_it() {
    let (_dir, repo) = bare();
    assert_eq!(repo.head_branch().unwrap(), "refs/heads/main");
    assert_eq!(repo.branch_tip("refs/heads/main").unwrap(), None);
    let outcome = repo
        .commit_as(
            &request(None, &[("a/b.yaml", Some("b\n"))], "first\n\nbody"),
            &identity(),
        )
        .unwrap();
    let CommitOutcome::Committed { id, parent } = outcome else {
        panic!("expected a commit, got {outcome:?}");
    };
    assert_eq!(parent, None);
    assert_eq!(repo.branch_tip("refs/heads/main").unwrap(), Some(id));
    let commit = repo.git().find_commit(id).unwrap();
    assert_eq!(commit.message().unwrap(), "first\n\nbody\n");
    assert_eq!(commit.author().name().unwrap(), "Author");
    assert_eq!(commit.committer().email().unwrap(), "committer@example.com");
    assert_eq!(commit.time().seconds(), 1_112_904_793);
    assert_eq!(repo.read_file(id, "a/b.yaml").unwrap().unwrap(), b"b\n");
    assert_eq!(repo.read_file(id, "a/missing").unwrap(), None);
    assert_eq!(
        repo.read_file(id, "a").unwrap(),
        None,
        "a directory is no file"
    );
}

#[test]
fn reflog_names_greenlight_the_subject_and_the_committer() {
    // Bare repositories keep no reflog by default (like git), so use a checkout.
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo::init(dir.path(), "main").unwrap();
    let mut req = request(None, &[("x", Some("1"))], "promote(prod): api\n\nbody");
    req.update_worktree = false;
    let id = commit_id(repo.commit_as(&req, &identity()).unwrap());
    for name in ["refs/heads/main", "HEAD"] {
        let reflog = repo.git().reflog(name).unwrap();
        let entry = reflog
            .get(0)
            .unwrap_or_else(|| panic!("no reflog for {name}"));
        assert_eq!(
            entry.message().unwrap(),
            Some("greenlight: promote(prod): api")
        );
        assert_eq!(entry.committer().name().unwrap(), "Committer");
        assert_eq!(entry.id_new(), id);
    }
    assert!(
        !dir.path().join("x").exists(),
        "update_worktree: false leaves the checkout alone"
    );
}

#[test]
fn identical_content_is_no_change_and_writes_nothing() {
    let (_dir, repo) = bare();
    let first = commit_id(
        repo.commit_as(&request(None, &[("x", Some("1"))], "one"), &identity())
            .unwrap(),
    );
    let objects_before = count_objects(&repo);
    for pairs in [
        &[("x", Some("1"))][..],
        &[("absent", None)][..],
        &[("x", Some("1")), ("gone/too", None)][..],
    ] {
        let outcome = repo
            .commit_as(&request(Some(first), pairs, "again"), &identity())
            .unwrap();
        assert_eq!(outcome, CommitOutcome::NoChange, "{pairs:?}");
    }
    assert_eq!(repo.branch_tip("refs/heads/main").unwrap(), Some(first));
    assert_eq!(count_objects(&repo), objects_before);
}

fn count_objects(repo: &Repo) -> usize {
    let mut n = 0;
    repo.git()
        .odb()
        .unwrap()
        .foreach(|_| {
            n += 1;
            true
        })
        .unwrap();
    n
}

#[test]
fn deletes_and_updates_keep_untouched_files_and_modes() {
    let (_dir, repo) = bare();
    let first = commit_id(
        repo.commit_as(
            &request(
                None,
                &[
                    ("keep", Some("k")),
                    ("d/x", Some("x")),
                    ("run.sh", Some("v1")),
                ],
                "one",
            ),
            &identity(),
        )
        .unwrap(),
    );
    // Make run.sh executable with a tree edit, as a user's `chmod +x` commit would.
    let tree = repo.tree_of(first).unwrap();
    let entry = tree.get_path(Path::new("run.sh")).unwrap();
    let mut builder = repo.git().treebuilder(Some(&tree)).unwrap();
    builder
        .insert("run.sh", entry.id(), i32::from(FileMode::BlobExecutable))
        .unwrap();
    let tree = repo.git().find_tree(builder.write().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    let parent = repo.git().find_commit(first).unwrap();
    let second = repo
        .git()
        .commit(
            Some("refs/heads/main"),
            &sig,
            &sig,
            "chmod",
            &tree,
            &[&parent],
        )
        .unwrap();

    let third = commit_id(
        repo.commit_as(
            &request(
                Some(second),
                &[("d/x", None), ("run.sh", Some("v2"))],
                "two",
            ),
            &identity(),
        )
        .unwrap(),
    );
    let tree = repo.tree_of(third).unwrap();
    assert!(
        tree.get_path(Path::new("d")).is_err(),
        "empty directory is gone"
    );
    assert_eq!(repo.read_file(third, "keep").unwrap().unwrap(), b"k");
    let run = tree.get_path(Path::new("run.sh")).unwrap();
    assert_eq!(run.filemode(), i32::from(FileMode::BlobExecutable));
    assert_eq!(repo.read_file(third, "run.sh").unwrap().unwrap(), b"v2");
    assert_eq!(
        repo.git().find_commit(third).unwrap().parent_id(0).unwrap(),
        second
    );
}

#[test]
fn stale_expected_tip_is_refused_before_writing() {
    let (_dir, repo) = bare();
    let first = commit_id(
        repo.commit_as(&request(None, &[("x", Some("1"))], "one"), &identity())
            .unwrap(),
    );
    let objects_before = count_objects(&repo);
    let err = repo
        .commit_as(&request(None, &[("x", Some("2"))], "two"), &identity())
        .unwrap_err();
    match err {
        RepoError::BranchMoved {
            refname,
            expected,
            actual,
        } => {
            assert_eq!(refname, "refs/heads/main");
            assert_eq!(expected, None);
            assert_eq!(actual, Some(first));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(count_objects(&repo), objects_before);
}

#[test]
fn branch_moving_under_the_lock_is_detected() {
    let (_dir, repo) = bare();
    let first = commit_id(
        repo.commit_as(&request(None, &[("x", Some("1"))], "one"), &identity())
            .unwrap(),
    );
    let second = commit_id(
        repo.commit_as(
            &request(Some(first), &[("x", Some("2"))], "two"),
            &identity(),
        )
        .unwrap(),
    );
    let sig = identity().signatures().unwrap().1;
    let err = repo
        .move_branch("refs/heads/main", Some(first), first, &sig, "x")
        .unwrap_err();
    assert!(
        matches!(err, RepoError::BranchMoved { actual: Some(a), .. } if a == second),
        "{err:?}"
    );
    assert_eq!(repo.branch_tip("refs/heads/main").unwrap(), Some(second));
}

#[test]
fn refuses_unsafe_requests() {
    let (_dir, repo) = bare();
    let first = commit_id(
        repo.commit_as(
            &request(None, &[("dir/file", Some("1")), ("file", Some("f"))], "one"),
            &identity(),
        )
        .unwrap(),
    );
    type Changes<'a> = &'a [(&'a str, Option<&'a str>)];
    let cases: &[(Changes<'_>, &str)] = &[
        (&[("../escape", Some("x"))], ".."),
        (&[("/abs", Some("x"))], "absolute"),
        (&[(".git/config", Some("x"))], ".git"),
        (&[("dir", Some("x"))], "directory in the branch"),
        (&[("dir", None)], "directory in the branch"),
        (&[("file/under", Some("x"))], "parent directories is a file"),
        (
            &[("n", Some("x")), ("n/m", Some("y"))],
            "parent directories",
        ),
    ];
    for (pairs, want) in cases {
        match repo.commit_as(&request(Some(first), pairs, "m"), &identity()) {
            Err(RepoError::InvalidPath { reason, .. }) => {
                assert!(reason.contains(want), "{pairs:?}: {reason}")
            }
            other => panic!("{pairs:?}: unexpected {other:?}"),
        }
    }
    let mut req = request(Some(first), &[("a", Some("x"))], "m");
    req.refname = "main".into();
    assert!(matches!(
        repo.commit_as(&req, &identity()),
        Err(RepoError::InvalidRefName { .. })
    ));
    req.refname = "refs/heads/bad..name".into();
    assert!(matches!(
        repo.commit_as(&req, &identity()),
        Err(RepoError::InvalidRefName { .. })
    ));
    let req = request(Some(first), &[("a", Some("x"))], " \n\n ");
    assert!(matches!(
        repo.commit_as(&req, &identity()),
        Err(RepoError::EmptyMessage)
    ));
    assert_eq!(repo.branch_tip("refs/heads/main").unwrap(), Some(first));
}

#[test]
fn reads_directories_and_finds_files() {
    let (_dir, repo) = bare();
    let id = commit_id(
        repo.commit_as(
            &request(
                None,
                &[
                    ("environments/prod/values.yaml", Some("p")),
                    ("environments/prod/eu/api/values.yaml", Some("e")),
                    ("environments/staging/values.yaml", Some("s")),
                    ("environments/staging/notes.md", Some("n")),
                    ("rendered/prod/a.yaml", Some("a")),
                    ("rendered/prod/sub/b.yaml", Some("b")),
                    ("values.yaml", Some("root")),
                ],
                "layout",
            ),
            &identity(),
        )
        .unwrap(),
    );
    let files = repo.read_dir_files(id, "rendered/prod").unwrap();
    assert_eq!(
        files,
        BTreeMap::from([("rendered/prod/a.yaml".to_string(), b"a".to_vec())])
    );
    assert_eq!(repo.read_dir_files(id, "rendered/prod/").unwrap(), files);
    assert!(repo.read_dir_files(id, "rendered/none").unwrap().is_empty());
    assert!(repo.read_dir_files(id, "values.yaml").unwrap().is_empty());
    assert_eq!(
        repo.read_dir_files(id, "")
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["values.yaml"]
    );
    assert_eq!(
        repo.find_files(id, "environments", "values.yaml").unwrap(),
        vec![
            "environments/prod/eu/api/values.yaml",
            "environments/prod/values.yaml",
            "environments/staging/values.yaml",
        ]
    );
    assert_eq!(repo.find_files(id, ".", "values.yaml").unwrap().len(), 4);
    assert!(repo
        .find_files(id, "nowhere", "values.yaml")
        .unwrap()
        .is_empty());
    assert!(matches!(
        repo.read_dir_files(id, "../x"),
        Err(RepoError::InvalidPath { .. })
    ));
}

#[test]
fn open_and_discover_find_the_right_repository() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo::init(&dir.path().join("work"), "trunk").unwrap();
    assert!(!repo.is_bare());
    assert_eq!(repo.head_branch().unwrap(), "refs/heads/trunk");
    let sub = dir.path().join("work/a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let found = Repo::discover(&sub).unwrap();
    assert_eq!(
        found.workdir().unwrap().canonicalize().unwrap(),
        dir.path().join("work").canonicalize().unwrap()
    );
    assert!(matches!(
        Repo::open(&sub),
        Err(RepoError::NotARepository { .. })
    ));
    assert!(matches!(
        Repo::discover(dir.path()),
        Err(RepoError::NotARepository { .. })
    ));
    let git_dir = Repo::open(&dir.path().join("work/.git")).unwrap();
    assert!(git_dir.git_dir().ends_with(".git"));
}

#[test]
fn detached_head_is_reported() {
    let (_dir, repo) = bare();
    let id = commit_id(
        repo.commit_as(&request(None, &[("x", Some("1"))], "one"), &identity())
            .unwrap(),
    );
    repo.git().set_head_detached(id).unwrap();
    assert!(matches!(
        repo.head_branch(),
        Err(RepoError::DetachedHead { .. })
    ));
    // Committing to the branch still works: the detached checkout is not touched.
    let outcome = repo
        .commit_as(&request(Some(id), &[("x", Some("2"))], "two"), &identity())
        .unwrap();
    assert!(matches!(outcome, CommitOutcome::Committed { .. }));
}

#[test]
fn the_pending_checkout_record_lives_only_while_a_checkout_update_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = git2::RepositoryInitOptions::new();
    options.initial_head("main");
    Repository::init_opts(dir.path(), &options).unwrap();
    let repo = Repo::open(dir.path()).unwrap();
    let record = repo.git_dir().join(pending::FILE);
    // Leftovers of an earlier killed run, an hour and more old: swept by the next commit.
    let stale_write = repo.git_dir().join("greenlight-tmp/write-999999.tmp");
    let stale_record = repo.git_dir().join(format!("{}.999999.tmp", pending::FILE));
    std::fs::create_dir_all(stale_write.parent().unwrap()).unwrap();
    let aged = std::time::SystemTime::now() - worktree::STALE_AFTER * 2;
    for path in [&stale_write, &stale_record] {
        std::fs::File::create(path)
            .unwrap()
            .set_modified(aged)
            .unwrap();
    }

    let first = commit_id(
        repo.commit_as(&request(None, &[("x", Some("1"))], "one"), &identity())
            .unwrap(),
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("x")).unwrap(), "1");
    assert!(!record.exists(), "removed once the checkout is written");
    assert!(
        !stale_write.exists() && !stale_record.exists(),
        "stale files swept"
    );

    // A commit that loses the compare-and-swap leaves no record behind either.
    let prepared = repo
        .prepare_commit_as(
            &request(Some(first), &[("x", Some("2"))], "two"),
            &identity(),
        )
        .unwrap()
        .unwrap();
    let other = commit_id(
        repo.commit_as(
            &request(Some(first), &[("y", Some("3"))], "other"),
            &identity(),
        )
        .unwrap(),
    );
    let err = repo.finish_commit(&prepared).unwrap_err();
    assert!(matches!(err, RepoError::BranchMoved { .. }), "{err:?}");
    assert!(!record.exists());
    assert_eq!(repo.branch_tip("refs/heads/main").unwrap(), Some(other));
    assert_eq!(repo.interrupted_checkout().unwrap(), None);
    assert_eq!(repo.resume_checkout().unwrap(), None);
}

#[test]
fn commits_since_lists_only_descendants_newest_first() {
    let (_dir, repo) = bare();
    let a = commit_id(
        repo.commit_as(&request(None, &[("f", Some("a"))], "a"), &identity())
            .unwrap(),
    );
    let b = commit_id(
        repo.commit_as(&request(Some(a), &[("f", Some("b"))], "b"), &identity())
            .unwrap(),
    );
    let c = commit_id(
        repo.commit_as(&request(Some(b), &[("f", Some("c"))], "c"), &identity())
            .unwrap(),
    );
    // A side branch forked from `a`, merged after `c`: its commit does not descend from `b`.
    let git = repo.git();
    let sig =
        git2::Signature::new("T", "t@example.com", &git2::Time::new(1_112_904_800, 0)).unwrap();
    let base = git.find_commit(a).unwrap();
    let side = git
        .commit(None, &sig, &sig, "side", &base.tree().unwrap(), &[&base])
        .unwrap();
    let tip_commit = git.find_commit(c).unwrap();
    let side_commit = git.find_commit(side).unwrap();
    let merge = git
        .commit(
            Some("refs/heads/main"),
            &sig,
            &sig,
            "merge",
            &tip_commit.tree().unwrap(),
            &[&tip_commit, &side_commit],
        )
        .unwrap();
    assert_eq!(repo.commits_since(merge, b, 10).unwrap(), vec![merge, c]);
    assert_eq!(repo.commits_since(merge, b, 1).unwrap(), vec![merge]);
    assert_eq!(repo.commits_since(b, b, 10).unwrap(), Vec::<Oid>::new());
    assert_eq!(repo.commits_since(merge, a, 10).unwrap().len(), 4);
}
