//! Integration tests of `greenlight::diff`: the unified diff it prints is a patch git itself
//! applies (checked with libgit2 on an in-memory tree), and no input makes it panic or
//! overrun a markdown budget.

use git2::{IndexEntry, IndexTime, Oid, Repository};
use greenlight::diff::{diff, FileMap, TextStyle};
use proptest::prelude::*;

/// Applies `patch` with libgit2 to a tree holding `old` and returns the resulting files.
fn apply_with_libgit2(old: &FileMap, patch: &str) -> FileMap {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init_bare(dir.path()).unwrap();
    let mut index = repo.index().unwrap();
    for (path, bytes) in old {
        let entry = IndexEntry {
            ctime: IndexTime::new(0, 0),
            mtime: IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: 0,
            id: Oid::ZERO_SHA1,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add_frombuffer(&entry, bytes).unwrap();
    }
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parsed = git2::Diff::from_buffer(patch.as_bytes())
        .unwrap_or_else(|e| panic!("libgit2 cannot parse the patch: {e}\n{patch}"));
    let result = repo
        .apply_to_tree(&tree, &parsed, None)
        .unwrap_or_else(|e| panic!("libgit2 cannot apply the patch: {e}\n{patch}"));
    result
        .iter()
        .map(|entry| {
            let blob = repo.find_blob(entry.id).unwrap();
            (
                String::from_utf8(entry.path).unwrap(),
                blob.content().to_vec(),
            )
        })
        .collect()
}

fn files(entries: &[(&str, &str)]) -> FileMap {
    entries
        .iter()
        .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
        .collect()
}

#[test]
fn a_release_diff_applies_with_git() {
    let old = files(&[
        (
            "rendered/production/api.service.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector:\n    app: api\n    color: blue\n",
        ),
        ("rendered/production/old.yaml", "kind: ConfigMap\n"),
        ("rendered/production/no newline.txt", "a\nb"),
    ]);
    let new = files(&[
        (
            "rendered/production/api.service.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector:\n    app: api\n    color: green\n",
        ),
        ("rendered/production/new.yaml", "kind: ConfigMap\nmetadata: {name: x}\n"),
        ("rendered/production/no newline.txt", "a\nc"),
        ("rendered/production/\"quoted\".txt", "q\n"),
    ]);
    let patch = diff(&old, &new).to_text(TextStyle::default());
    assert_eq!(apply_with_libgit2(&old, &patch), new);
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("kind: Service".to_string()),
        Just("  color: blue".to_string()),
        Just("  color: green".to_string()),
        Just("x\ry".to_string()),
        Just("```".to_string()),
        Just("ünï €".to_string()),
        Just(String::new()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    (prop::collection::vec(line(), 0..12), any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut text = lines.join("\n");
        if final_newline && !text.is_empty() {
            text.push('\n');
        }
        text
    })
}

fn text_files() -> impl Strategy<Value = FileMap> {
    prop::collection::btree_map(
        prop::sample::select(vec![
            "a.yaml".to_string(),
            "dir/b.txt".to_string(),
            // Not with a space: libgit2 fails to apply an added file whose name has one,
            // even as git writes it; `a_release_diff_applies_with_git` covers a modified one.
            "dir/sub/c.yaml".to_string(),
        ]),
        text().prop_map(String::into_bytes),
        0..3,
    )
}

fn any_files() -> impl Strategy<Value = FileMap> {
    let content = prop_oneof![
        text().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..64),
        "[a-z:{}\\[\\]&*!<>'\"#|\\- \n]{0,80}".prop_map(String::into_bytes),
    ];
    prop::collection::btree_map(
        prop::sample::select(vec![
            "a.yaml".to_string(),
            "b.yml".to_string(),
            "c.bin".to_string(),
        ]),
        content,
        0..3,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_text_diff_is_a_patch_git_applies(
        old in text_files(),
        new in text_files(),
        context in 1usize..5,
    ) {
        let diff = diff(&old, &new);
        prop_assert_eq!(diff.is_empty(), old == new);
        // libgit2 cannot parse the header-only patch git writes for an empty file added or
        // removed (libgit2/libgit2#5713, #6778); git applies it, and a unit test pins it.
        prop_assume!(diff.files.iter().all(|file| !file.unified.is_empty()));
        if !diff.is_empty() {
            let patch = diff.to_text(TextStyle { color: false, context });
            prop_assert_eq!(apply_with_libgit2(&old, &patch), new);
        }
    }

    #[test]
    fn any_input_gives_a_bounded_markdown_and_consistent_counts(
        old in any_files(),
        new in any_files(),
        max_bytes in 0usize..2_000,
    ) {
        let diff = diff(&old, &new);
        let markdown = diff.to_markdown(max_bytes);
        prop_assert!(markdown.len() <= max_bytes);
        let stats = diff.stats();
        prop_assert_eq!(stats.files_changed(), diff.files.len());
        for file in &diff.files {
            let count = |sign: char| file.unified.split_terminator('\n').filter(|l| l.starts_with(sign)).count();
            prop_assert_eq!((count('+'), count('-')), (file.added, file.removed));
        }
        prop_assert!(diff.summary_lines().len() >= diff.files.len());
        let json = serde_json::to_string(&diff).unwrap();
        let back: greenlight::diff::Diff = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, diff);
    }
}
