//! `render`: every selected environment rendered in memory (in parallel), then written into
//! `rendered/` of the working folder, and what environments that no longer exist left
//! behind removed.

use anyhow::Context as _;
use rayon::prelude::*;

use super::{
    load_values, progress, templates, Location, OpsError, Progress, RenderReport, RenderedEnv,
    SCHEMA_VERSION,
};
use crate::render;
use crate::workspace::{self, DiskTree};

/// `render`: renders the selected environments (all when none are named) from the working
/// directory into `rendered/<env>/`. Every environment is rendered before any file is
/// written, so one bad values file leaves every folder as it was.
pub fn render_envs(
    location: &Location,
    envs: &[String],
    all: bool,
    progress: &dyn Progress,
) -> anyhow::Result<RenderReport> {
    let root = match location {
        Location::Plain(p) => p.clone(),
        Location::Git(g) => match g.repo.workdir() {
            Some(w) => w.to_owned(),
            None => {
                return Err(OpsError::BareRender {
                    path: g.repo.git_dir().to_owned(),
                }
                .into())
            }
        },
    };
    let disk = DiskTree::new(&root);
    // A named environment whose folder is a link out of the repository is reported as such,
    // not as missing.
    for env in envs {
        workspace::check_inside(&root, env)?;
    }
    let selected = workspace::select(&disk, envs, all)?;
    let templates = templates(&disk)?;
    // Environments are independent, so they load and render in parallel; the results keep
    // the selection's order and the first failing environment (in that order) is reported,
    // so output and errors are the same as a sequential run.
    let rendering = progress::stage(progress, "rendering", selected.len() as u64);
    let render_one = |env: &String| {
        // Named environments were checked above.
        if !envs.contains(env) {
            workspace::check_inside(&root, env)?;
        }
        let loaded = load_values(&disk, env)?;
        let files = render::render(&loaded.values, &loaded.running, env, &templates)
            .with_context(|| format!("rendering environment {env}"))?;
        rendering.advance(1);
        // An environment without a record of what its colours run gets one: both run the
        // configuration they were rendered from.
        let record = loaded
            .released_text
            .is_none()
            .then(|| (loaded.released_path, loaded.released.to_text()));
        Ok((files, record))
    };
    // One environment is rendered on this thread: starting the thread pool costs more than
    // the render.
    type Rendered = (render::FileMap, Option<(String, String)>);
    let results: Vec<anyhow::Result<Rendered>> = if selected.len() > 1 {
        selected.par_iter().map(render_one).collect()
    } else {
        selected.iter().map(render_one).collect()
    };
    drop(rendering);
    let mut rendered = Vec::with_capacity(results.len());
    for (env, files) in selected.iter().zip(results) {
        rendered.push((env, files?));
    }
    // Temporary files go inside the git directory, where a killed run leaves nothing for
    // `git status` to show.
    let scratch = match location {
        Location::Git(g) => Some(g.repo.scratch_dir()),
        Location::Plain(_) => None,
    };
    let writing = progress::stage(progress, "writing", rendered.len() as u64);
    // Environments are written in parallel too: creating thousands of files is mostly
    // waiting for the file system. Each file is renamed into place whole, whatever the order.
    let write_one = |(env, (files, record)): &(&String, Rendered)| {
        let mut r = workspace::write_rendered(&root, env, files, scratch.as_deref())?;
        if let Some((path, text)) = record {
            workspace::write_file(&root, path, text.as_bytes(), scratch.as_deref())?;
            r.written.insert(0, path.clone());
        }
        writing.advance(1);
        anyhow::Ok(r)
    };
    let written: Vec<anyhow::Result<workspace::WriteReport>> = if rendered.len() > 1 {
        rendered.par_iter().map(write_one).collect()
    } else {
        rendered.iter().map(write_one).collect()
    };
    let mut out = Vec::new();
    let mut foreign = Vec::new();
    for ((env, _), r) in rendered.iter().zip(written) {
        let r = r?;
        foreign.extend(r.foreign);
        out.push(RenderedEnv {
            environment: (*env).clone(),
            written: r.written,
            unchanged: r.unchanged,
            removed: r.removed,
        });
    }
    drop(writing);
    // Rendering everything also clears what environments that no longer exist left behind,
    // so `verify`'s advice (render --all) fixes a removed environment.
    let mut orphans_removed = Vec::new();
    if all || envs.is_empty() {
        let orphans = workspace::remove_orphans(&root, &selected)?;
        orphans_removed = orphans.removed;
        foreign.extend(orphans.foreign);
    }
    foreign.sort();
    for path in &foreign {
        tracing::warn!(
            "left {path} in place: greenlight did not write it (it does not start with \
             `{}`); `git rm {path}` if it does not belong under rendered/",
            workspace::GENERATED_MARK
        );
    }
    Ok(RenderReport {
        schema_version: SCHEMA_VERSION,
        command: "render".to_owned(),
        environments: out,
        orphans_removed,
        foreign,
    })
}

/// `render ENV --stdout`: the objects of one environment as its kustomization lists them,
/// rendered from the working folder's values (or the branch tip in a bare repository), each
/// with its repository path. Writes nothing.
pub fn render_objects(location: &Location, env: &str) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let snapshot = location.working()?;
    let selected = workspace::select(snapshot.as_ref(), &[env.to_owned()], false)?;
    let env = &selected[0];
    let templates = templates(snapshot.as_ref())?;
    let loaded = load_values(snapshot.as_ref(), env)?;
    let files = render::render(&loaded.values, &loaded.running, env, &templates)
        .with_context(|| format!("rendering environment {env}"))?;
    let dir = workspace::rendered_dir(env);
    Ok(files
        .into_iter()
        .filter(|(name, _)| render::is_listed(name))
        .map(|(name, bytes)| (format!("{dir}/{name}"), bytes))
        .collect())
}
