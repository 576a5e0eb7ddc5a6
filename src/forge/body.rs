//! The body of a release pull request: what a reviewer needs to approve a traffic change at a
//! glance — a summary table, then the manifest diff — under the forge's size limit.

use crate::diff::Diff;

/// The default body budget in bytes. GitHub refuses bodies over 65,536 characters; GitLab and
/// Gitea accept more, so the smallest limit is used for all.
pub const DEFAULT_BODY_BYTES: usize = 60_000;

/// What the release did, for the summary table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrSummary {
    /// The environment.
    pub environment: String,
    /// The command, e.g. `promote`.
    pub action: String,
    /// The live colour before.
    pub live_before: String,
    /// The live colour after.
    pub live_after: String,
    /// The blue colour's image before and after (`None`: no image).
    pub blue: (Option<String>, Option<String>),
    /// The green colour's image before and after.
    pub green: (Option<String>, Option<String>),
    /// The commit on the release branch.
    pub commit: Option<String>,
}

/// The markdown body: a summary table, then `diff` as markdown (resource changes and the
/// unified diff in a fenced block), never longer than `max_bytes`; a huge diff is cut with a
/// note saying how to see all of it.
pub fn pr_body(summary: &PrSummary, diff: &Diff, max_bytes: usize) -> String {
    pr_body_many(std::slice::from_ref(summary), diff, max_bytes)
}

/// [`pr_body`] of a release of several environments: one row of the table each, and the diff
/// of them all. With one summary it is exactly [`pr_body`].
pub fn pr_body_many(summaries: &[PrSummary], diff: &Diff, max_bytes: usize) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let image = |i: &Option<String>| {
        i.as_deref()
            .map_or("none".to_owned(), |i| format!("`{}`", cell(i)))
    };
    let change = |before: String, after: String| {
        if before == after {
            before
        } else {
            format!("{before} → **{after}**")
        }
    };
    let colour =
        |(before, after): &(Option<String>, Option<String>)| change(image(before), image(after));
    let Some(first) = summaries.first() else {
        return String::new();
    };
    let of = match summaries {
        [one] => format!("`{}`", cell(&one.environment)),
        many => format!("{} environments", many.len()),
    };
    let mut body = format!(
        "greenlight `{action}` of {of}.\n\n\
         | Environment | Live | Blue | Green |\n\
         |---|---|---|---|\n",
        action = cell(&first.action),
    );
    for summary in summaries {
        body.push_str(&format!(
            "| `{env}` | {live} | {blue} | {green} |\n",
            env = cell(&summary.environment),
            live = change(summary.live_before.clone(), summary.live_after.clone()),
            blue = colour(&summary.blue),
            green = colour(&summary.green),
        ));
    }
    body.push('\n');
    let footer = match &first.commit {
        Some(commit) => format!(
            "\n\nCommit `{commit}`. Check it with `greenlight verify`; the full diff is \
             `git show {commit}`.\n"
        ),
        None => "\n".to_owned(),
    };
    let budget = max_bytes.saturating_sub(body.len() + footer.len());
    body.push_str(&diff.to_markdown(budget));
    body.push_str(&footer);
    if body.len() > max_bytes {
        // Only a budget smaller than the table itself gets here.
        let mut cut = max_bytes;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
    }
    body
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn summary() -> PrSummary {
        PrSummary {
            environment: "production".into(),
            action: "promote".into(),
            live_before: "blue".into(),
            live_after: "green".into(),
            blue: (
                Some("registry.example.com/shop/api:1.4.0".into()),
                Some("registry.example.com/shop/api:1.4.0".into()),
            ),
            green: (None, Some("registry.example.com/shop/api:1.5.0".into())),
            commit: Some("0123456789ab".into()),
        }
    }

    fn diff(lines: usize) -> Diff {
        let old = BTreeMap::from([(
            "rendered/production/api.service.yaml".to_owned(),
            b"color: blue\n".to_vec(),
        )]);
        let mut text = String::from("color: green\n");
        for i in 0..lines {
            text.push_str(&format!("line{i}: value\n"));
        }
        let new = BTreeMap::from([(
            "rendered/production/api.service.yaml".to_owned(),
            text.into_bytes(),
        )]);
        crate::diff::diff(&old, &new)
    }

    #[test]
    fn the_body_has_the_table_and_the_diff() {
        let body = pr_body(&summary(), &diff(0), DEFAULT_BODY_BYTES);
        assert!(
            body.contains(
                "| `production` | blue → **green** | `registry.example.com/shop/api:1.4.0` \
                 | none → **`registry.example.com/shop/api:1.5.0`** |"
            ),
            "{body}"
        );
        assert!(body.contains("```diff"), "{body}");
        assert!(body.contains("+color: green"), "{body}");
        assert!(body.contains("git show 0123456789ab"), "{body}");
    }

    #[test]
    fn a_huge_diff_is_cut_under_the_budget_with_a_note() {
        for budget in [2_000, 5_000, 30_000] {
            let body = pr_body(&summary(), &diff(5_000), budget);
            assert!(body.len() <= budget, "{} > {budget}", body.len());
            assert!(body.contains("| `production` |"));
            assert!(body.contains("_Truncated: "), "{body}");
            assert!(body.ends_with("`git show 0123456789ab`.\n"));
        }
        let tiny = pr_body(&summary(), &diff(10), 50);
        assert!(tiny.len() <= 50);
    }

    #[test]
    fn table_cells_cannot_break_the_table() {
        let mut s = summary();
        s.environment = "a|b\nc".into();
        let body = pr_body(&s, &diff(0), DEFAULT_BODY_BYTES);
        assert!(body.contains("`a\\|b c`"), "{body}");
    }
}
