//! The read-only commands: `diff` (values now vs committed manifests), `verify` (the
//! reviewers' CI gate), `status` and `history`.

use std::collections::{BTreeMap, BTreeSet};

use super::load::{load_and_render, read_values, render_read, ReadValues};
use super::{
    load_values, mark_live_now, render_env, rendered_files, templates, CheckoutBehind, ColorStatus,
    Drift, DriftKind, EnvDiff, EnvStatus, IdleState, Location, StatusReport, VerifyReport,
    SCHEMA_VERSION,
};
use super::{DiffReport, HistoryReport, Progress};
use crate::diff;
use crate::history;
use crate::release;
use crate::values::{Color, Values};
use crate::workspace;

/// `diff`: for each selected environment, what its values (in the working tree, or at the
/// branch tip in a bare repository) render now, compared with what is committed under
/// `rendered/` — plus the values file itself when it differs from the committed one.
pub fn diff(location: &Location, envs: &[String]) -> anyhow::Result<DiffReport> {
    warn_if_checkout_behind(location);
    let working = location.working()?;
    let committed = location.committed()?;
    let selected = workspace::select(working.as_ref(), envs, false)?;
    let templates = templates(working.as_ref())?;
    let mut out = Vec::new();
    // One walk of history for every selected environment, as for `status`: a walk per
    // environment read a long history once for each of a fleet's environments.
    let mut scans = match location {
        Location::Git(g) => match g.tip {
            Some(tip) => crate::history::scan_histories(&g.repo, tip, &selected)?,
            None => BTreeMap::new(),
        },
        Location::Plain(_) => BTreeMap::new(),
    };
    // Files are read on this thread, in order; parsing values and rendering, most of the
    // work, run in parallel (`fleet`). Reads that fail are kept for their turn: an
    // environment with one, or whose `configMap` names files, is loaded and rendered here,
    // in the order `load_values` and the reads below report errors.
    type Committed = (
        anyhow::Result<Option<Vec<u8>>>,
        anyhow::Result<BTreeMap<String, Vec<u8>>>,
    );
    let read = |env: &String| {
        let now = read_values(working.as_ref(), env)?;
        let before = committed.read(&workspace::values_path(env));
        let old_files = rendered_files(committed.as_ref(), env);
        anyhow::Ok((now, (before, old_files)))
    };
    let render = |env: &String, (now, (before, old_files)): &(ReadValues, Committed)| {
        if before.is_ok() && old_files.is_ok() {
            render_read(env, now, &templates)
        } else {
            Ok(None)
        }
    };
    super::fleet::in_order(
        &selected,
        read,
        render,
        |env, (_, (before, old_files)), rendered| {
            let (now, mut new_files, before, mut old_files) = match rendered {
                Some((now, new_files)) => (now, new_files, before?, old_files?),
                None => {
                    // In `load_values`' order: the values, then the committed files.
                    let now = load_values(working.as_ref(), env)?;
                    let (before, old_files) = (before?, old_files?);
                    let new_files = render_env(env, &now.values, &now.running, &templates)?;
                    (now, new_files, before, old_files)
                }
            };
            let state = scans.remove(env).unwrap_or_default().state;
            let unreleased = release::unreleased(
                env,
                &now.values,
                &state,
                &now.released,
                &crate::values::config_of(&now.current),
            );
            // Only what reaches the cluster counts: an edit of values that renders the same
            // manifests (a comment, layout, a byte-order mark) is no difference, as for verify;
            // configuration no colour runs yet is one.
            let same_manifests = old_files == new_files;
            if same_manifests && unreleased.is_none() {
                return Ok(());
            }
            if let Some(before) = &before {
                old_files.insert(now.path.clone(), before.clone());
            }
            new_files.insert(now.path.clone(), now.text.clone().into_bytes());
            let mut d = diff::diff(&old_files, &new_files);
            mark_live_now(&mut d, env, &now.values);
            let old_values = before
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| crate::values::parse(&now.path, &t).ok());
            let mut summary = match same_manifests {
                true => Vec::new(),
                false => describe(env, old_values.as_ref(), &now.values),
            };
            if let Some(u) = &unreleased {
                summary.push(format!("{env}: {}", describe_unreleased(u)));
            }
            out.push(EnvDiff {
                environment: env.clone(),
                summary,
                diff: d,
                unreleased_config: unreleased,
            });
            Ok(())
        },
    )?;
    Ok(DiffReport {
        schema_version: SCHEMA_VERSION,
        command: "diff".to_owned(),
        // Configuration waiting for a stage is reported, but it is no difference to commit.
        changed: out.iter().any(|e| !e.diff.is_empty()),
        environments: out,
    })
}

/// One line saying what configuration is not released yet and what ships it.
pub fn describe_unreleased(u: &release::Unreleased) -> String {
    // A few changes are shown with their values; many, by key.
    let keys: Vec<String> = u
        .changes
        .iter()
        .map(|c| match u.changes.len() {
            1..=3 => format!(
                "{} {} → {}",
                c.path,
                crate::diff::show_value(c.before.as_ref()),
                crate::diff::show_value(c.after.as_ref())
            ),
            _ => c.path.clone(),
        })
        .collect();
    match u.staged_in {
        Some(color) => format!(
            "configuration staged in {color}, not live yet ({}): `{}` ships it",
            keys.join(", "),
            u.ship_with
        ),
        None => format!(
            "values hold configuration no colour runs yet ({}): `{}` ships it with the live \
             image (or stage the next image with --tag)",
            keys.join(", "),
            u.ship_with
        ),
    }
}

/// One-line summaries of how `new` differs from `old`, prefixed with the environment.
fn describe(env: &str, old: Option<&Values>, new: &Values) -> Vec<String> {
    let lines = match old {
        None => vec![format!(
            "new environment ({} in {})",
            new.app, new.namespace
        )],
        Some(old) => release::describe_change(old, new),
    };
    let lines = if lines.is_empty() {
        vec!["rendered manifests differ from values (not rendered since the last change)".into()]
    } else {
        lines
    };
    lines.into_iter().map(|l| format!("{env}: {l}")).collect()
}

/// `verify`: renders every environment of what is committed (the working directory when
/// there is no git) and lists every file under `rendered/` that is not exactly that.
pub fn verify(
    location: &Location,
    worktree: bool,
    progress: &dyn Progress,
) -> anyhow::Result<VerifyReport> {
    // In a checkout, a release commit whose files an interrupted run did not write yet fails
    // the check either way: what is on disk is not the branch, and `git commit -a` would
    // revert it.
    let checkout_behind = match location {
        Location::Git(g) => super::checkout_behind(&g.repo),
        Location::Plain(_) => None,
    };
    // Checking the commit in a checkout with edits: say which edits the check did not see.
    let uncommitted = match location {
        Location::Git(g) if !worktree => g
            .repo
            .uncommitted(&[workspace::ENVIRONMENTS_DIR, workspace::RENDERED_DIR])?,
        _ => Vec::new(),
    };
    let snapshot = if worktree {
        location.working()?
    } else {
        location.committed()?
    };
    let envs = workspace::select(snapshot.as_ref(), &[], true)?;
    let templates = templates(snapshot.as_ref())?;
    let mut expected: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let rendering = super::progress::stage(progress, "verifying", envs.len() as u64);
    // Values are read on this thread and parsed with the rendering, in parallel; an
    // environment that needs its snapshot again (its `configMap` names files, or its release
    // record could not be read) is loaded and rendered here, in its turn.
    super::fleet::in_order(
        &envs,
        |env| read_values(snapshot.as_ref(), env),
        |env, read| render_read(env, read, &templates),
        |env, _, rendered| {
            let files = match rendered {
                Some((_, files)) => files,
                None => load_and_render(snapshot.as_ref(), env, &templates)?.1,
            };
            expected.extend(files);
            rendering.advance(1);
            Ok(())
        },
    )?;
    drop(rendering);
    let mut actual = BTreeMap::new();
    let mut dirs: BTreeSet<String> = envs.iter().map(|e| workspace::rendered_dir(e)).collect();
    // Manifests outside every environment's folder: nobody renders them any more.
    for path in snapshot.files_where(workspace::RENDERED_DIR, &workspace::is_manifest)? {
        if let Some((dir, _)) = path.rsplit_once('/') {
            dirs.insert(dir.to_owned());
        }
    }
    for dir in &dirs {
        actual.extend(
            snapshot
                .dir_files(dir)?
                .into_iter()
                .filter(|(p, _)| workspace::is_manifest(p)),
        );
    }
    let drift = compare_rendered(&expected, &actual);
    Ok(VerifyReport {
        schema_version: SCHEMA_VERSION,
        command: "verify".to_owned(),
        source: snapshot.describe(),
        ok: drift.is_empty() && checkout_behind.is_none(),
        environments: envs.len(),
        drift,
        checkout_behind,
        uncommitted,
    })
}

/// Every file of `actual` (what is under `rendered/`) that is not exactly `expected` (what
/// values render), and every expected file that is missing, sorted by path.
pub(super) fn compare_rendered(
    expected: &BTreeMap<String, Vec<u8>>,
    actual: &BTreeMap<String, Vec<u8>>,
) -> Vec<Drift> {
    let mut drift = Vec::new();
    for (path, bytes) in expected {
        match actual.get(path) {
            None => drift.push(Drift {
                path: path.clone(),
                problem: DriftKind::Missing,
            }),
            Some(a) if a != bytes => drift.push(Drift {
                path: path.clone(),
                problem: DriftKind::Differs,
            }),
            Some(_) => {}
        }
    }
    for (path, bytes) in actual {
        if !expected.contains_key(path) {
            drift.push(Drift {
                path: path.clone(),
                problem: match workspace::is_generated(bytes) {
                    true => DriftKind::Unexpected,
                    false => DriftKind::Foreign,
                },
            });
        }
    }
    drift.sort_by(|a, b| a.path.cmp(&b.path));
    drift
}

/// `status`: live colour, images, replicas, staged colour and last promotion per environment,
/// as committed on the branch (or in the directory when there is no git).
pub fn status(
    location: &Location,
    envs: &[String],
    clock: &StatusClock,
) -> anyhow::Result<StatusReport> {
    let checkout_behind = warn_if_checkout_behind(location);
    let snapshot = location.committed()?;
    let selected = workspace::select(snapshot.as_ref(), envs, false)?;
    let mut scans = match location {
        Location::Git(g) => {
            let tip = g.tip.expect("committed() checked the tip");
            crate::history::scan_histories(&g.repo, tip, &selected)?
        }
        Location::Plain(_) => BTreeMap::new(),
    };
    let mut out = Vec::new();
    for env in selected {
        let loaded = load_values(snapshot.as_ref(), &env)?;
        let v = &loaded.values;
        let scan = scans.remove(&env).unwrap_or_default();
        let staged = scan.state.staged(v);
        let color = |c: Color| {
            let spec = v.color(c);
            let runs = loaded.running.of(c);
            ColorStatus {
                image: spec.image_ref(&runs.image),
                version: release::display_version(spec),
                replicas: spec.replicas,
                config_sha256: crate::checksum::sha256_hex(
                    &serde_json::to_vec(loaded.released.config(c))
                        .expect("a configuration serializes"),
                ),
            }
        };
        let unreleased_config = release::unreleased(
            &env,
            v,
            &scan.state,
            &loaded.released,
            &crate::values::config_of(&loaded.current),
        );
        if let Some(u) = &unreleased_config {
            tracing::info!("{env}: {}", describe_unreleased(u));
        }
        let idle = v.idle_color();
        let idle_spec = v.color(idle);
        let idle_state = if staged == Some(idle) {
            IdleState::Staged
        } else if idle_spec.replicas > 0 {
            IdleState::Warm
        } else if idle_spec.image_ref(&v.image).is_some() {
            IdleState::ScaledDown
        } else {
            IdleState::Empty
        };
        let warm_seconds_left = match (idle_state, &scan.last_promotion) {
            (IdleState::Warm, Some(p)) => Some((p.time + clock.warm_seconds - clock.now).max(0)),
            _ => None,
        };
        let mut warnings = Vec::new();
        if let Some(last) = scan
            .state
            .last_transition
            .as_ref()
            .filter(|l| l.live != v.live_color)
        {
            warnings.push(format!(
                "values say {} is live, but the last {} ({}) left {} live: liveColor was \
                 changed outside greenlight, so rollback refuses; set it back to {} or stage \
                 and promote",
                v.live_color, last.action, last.commit, last.live, last.live
            ));
        }
        for warning in &warnings {
            tracing::warn!("{env}: {warning}");
        }
        out.push(EnvStatus {
            environment: env.clone(),
            app: v.app.to_string(),
            namespace: v.namespace.to_string(),
            live: v.live_color,
            staged,
            idle,
            idle_state,
            blue: color(Color::Blue),
            green: color(Color::Green),
            last_promotion: scan.last_promotion,
            last_flip: scan.last_flip,
            warm_seconds_left,
            warnings,
            unreleased_config,
        });
    }
    Ok(StatusReport {
        schema_version: SCHEMA_VERSION,
        command: "status".to_owned(),
        now: clock.now,
        environments: out,
        checkout_behind,
    })
}

/// The time `status` reports against, and the warm period `scale-down` waits out.
#[derive(Debug, Clone, Copy)]
pub struct StatusClock {
    /// Now, unix seconds.
    pub now: i64,
    /// The warm period, in seconds.
    pub warm_seconds: i64,
}

/// `history`: the release actions of `env` read from commit trailers, newest first.
pub fn history(location: Location, env: &str, limit: usize) -> anyhow::Result<HistoryReport> {
    let git = location.git("history")?;
    // An environment that is not there is a typo (with a suggestion), as for every command.
    let env = workspace::select(&git.tip_tree()?, &[env.to_owned()], false)?.remove(0);
    let tip = git.tip.expect("tip_tree() checked it");
    let records = history::records(&git.repo, tip, Some(&env))?
        .take(limit)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HistoryReport {
        schema_version: SCHEMA_VERSION,
        command: "history".to_owned(),
        environment: env,
        records,
    })
}

fn warn_if_checkout_behind(location: &Location) -> Option<CheckoutBehind> {
    match location {
        Location::Git(g) => super::warn_if_checkout_behind(&g.repo),
        Location::Plain(_) => None,
    }
}
