//! `init` (scaffold a GitOps repository, or add an environment to one) and `demo` (build a
//! scratch repository from the built-in example and run a whole release cycle on it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::{
    history, release_one, render_env, status, templates, verify, HistoryReport, InitReport,
    Location, OpsError, Publish, ReleaseCommand, ReleaseReport, StatusClock, StatusReport,
    VerifyReport, SCHEMA_VERSION,
};
use crate::release::{ImageVersion, PromoteRequest, StageRequest};
use crate::render::Templates;
use crate::repo::{CommitOutcome, CommitRequest, Repo};
use crate::values;
use crate::workspace::{self, Snapshot};

/// The project's own example environments, built into the binary for `demo`.
pub const EXAMPLE_ENVIRONMENTS: &[(&str, &str)] = &[
    (
        "production/eu-west/api",
        include_str!("../../environments/production/eu-west/api/values.yaml"),
    ),
    (
        "staging",
        include_str!("../../environments/staging/values.yaml"),
    ),
];

/// What `init` creates.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The application name.
    pub app: String,
    /// The environment name (may be nested).
    pub env: String,
    /// The namespace; defaults to the app name.
    pub namespace: Option<String>,
    /// The image repository; defaults to `registry.example.com/<app>`.
    pub image: Option<String>,
    /// The first live tag.
    pub tag: String,
    /// Replicas of the live colour.
    pub replicas: u32,
    /// Container port.
    pub port: u32,
    /// Ingress host, if any.
    pub host: Option<String>,
    /// Name of the Flux GitRepository (in `flux-system`) to wire the folder to, if any.
    pub flux: Option<String>,
    /// Repository URL for an Argo CD Application wiring the folder, if any.
    pub argocd: Option<String>,
}

fn values_skeleton(o: &InitOptions) -> String {
    let namespace = o.namespace.clone().unwrap_or_else(|| o.app.clone());
    let image = o
        .image
        .clone()
        .unwrap_or_else(|| format!("registry.example.com/{}", o.app));
    let ingress = match &o.host {
        Some(h) => format!("ingress: {{ host: {h} }}\n"),
        None => "# ingress: { host: app.example.com, className: nginx }\n".to_owned(),
    };
    let mut wiring = String::new();
    if let Some(source) = &o.flux {
        wiring.push_str(&format!(
            "flux:                                 # apply rendered/{env}/{app}.flux-kustomization.yaml once\n\
             \x20 sourceRef: {{ kind: GitRepository, name: {}, namespace: flux-system }}\n",
            crate::yaml::quote(source),
            env = o.env,
            app = o.app,
        ));
    }
    if let Some(url) = &o.argocd {
        wiring.push_str(&format!(
            "argocd:                               # apply rendered/{env}/{app}.argocd-application.yaml once\n\
             \x20 repoURL: {}\n\
             \x20 destination: {{ server: \"https://kubernetes.default.svc\" }}\n",
            crate::yaml::quote(url),
            env = o.env,
            app = o.app,
        ));
    }
    if !wiring.is_empty() {
        wiring.push_str(
            "# notify:                             # the cluster reports back (README.md, \"The loop back\")\n\
             #   chat: { type: slack, channel: releases, secretRef: slack-webhook }\n\
             #   commitStatus: { address: \"https://github.com/OWNER/REPO\", secretRef: gitops-token }\n",
        );
    }
    format!(
        "{modeline}\n\
         # {env}: values of {app}. greenlight edits this file and renders rendered/{env}/ from it.\n\
         # Reference: README.md, \"The values file\".\n\
         app: {app}\n\
         namespace: {namespace}\n\
         liveColor: blue                      # the only line a promotion or rollback changes\n\
         image: {image}\n\
         # Each colour runs an image (tag or digest) with replicas; `greenlight stage` fills the\n\
         # idle one, `promote` switches liveColor to it.\n\
         blue:  {{ tag: \"{tag}\", replicas: {replicas} }}\n\
         green: {{ replicas: 0 }}\n\
         port: {port}\n\
         readinessProbe: {{ path: /healthz }}\n\
         resources:\n\
         \x20 requests: {{ cpu: 100m, memory: 128Mi }}\n\
         \x20 limits: {{ cpu: 500m, memory: 256Mi }}\n\
         {ingress}\
         routing: service\n\
         {wiring}",
        modeline = values::modeline(&o.env),
        env = o.env,
        app = o.app,
        tag = o.tag,
        replicas = o.replicas,
        port = o.port,
    )
}

/// Scaffolds `dir` as a GitOps repository with one environment (creating the git repository
/// when there is none), renders it and commits both.
pub fn init(dir: &Path, options: &InitOptions) -> anyhow::Result<InitReport> {
    workspace::check_env_name(&options.env)?;
    check_options(options)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let repo = match Repo::open(dir) {
        Ok(r) => r,
        Err(_) => Repo::init(dir, "main")?,
    };
    let text = values_skeleton(options);
    let mut files = BTreeMap::new();
    files.insert(options.env.clone(), text);
    let (commit, paths) = commit_environments(&repo, &files, &init_subject(options))?;
    Ok(InitReport {
        schema_version: SCHEMA_VERSION,
        command: "init".to_owned(),
        repository: dir.display().to_string(),
        environment: options.env.clone(),
        files: paths,
        commit,
    })
}

/// Checks every option that goes into the values text before it is written, so no option can
/// add a key to the file (the written file is parsed again afterwards too).
fn check_options(o: &InitOptions) -> anyhow::Result<()> {
    let check = |flag: &str, value: &str, f: fn(&str) -> Result<(), crate::grammar::Invalid>| {
        f(value).map_err(|e| anyhow::anyhow!("{flag} `{value}`: {e}"))
    };
    check("--app", &o.app, crate::grammar::check_app_name)?;
    if let Some(ns) = &o.namespace {
        check("--namespace", ns, crate::grammar::check_dns1123_label)?;
    }
    if let Some(image) = &o.image {
        check("--image", image, crate::grammar::check_image_repository)?;
    }
    check("--tag", &o.tag, crate::grammar::check_tag)?;
    if let Some(host) = &o.host {
        check("--host", host, crate::grammar::check_host)?;
    }
    Ok(())
}

fn init_subject(o: &InitOptions) -> String {
    format!("init({}): {} {} live on blue", o.env, o.app, o.tag)
}

/// Adds environments (name → values text), renders them with the repository's templates and
/// commits everything on the current branch. Refuses to overwrite an existing environment.
fn commit_environments(
    repo: &Repo,
    environments: &BTreeMap<String, String>,
    subject: &str,
) -> anyhow::Result<(String, Vec<String>)> {
    let refname = repo.head_branch()?;
    let tip = repo.branch_tip(&refname)?;
    let committed = tip.map(|commit| super::CommitTree::new(repo, commit));
    let templates = match &committed {
        Some(tree) => templates(tree)?,
        None => Templates::builtin(),
    };
    let mut changes: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
    for (env, text) in environments {
        let path = &workspace::values_path(env);
        let exists_committed = match &committed {
            Some(tree) => tree.read(path)?.is_some(),
            None => false,
        };
        let exists_on_disk = repo.workdir().is_some_and(|w| w.join(path).exists());
        if exists_committed || exists_on_disk {
            return Err(OpsError::AlreadyExists { path: path.clone() }.into());
        }
        let v = values::parse_in(env, path, text)?;
        for (p, bytes) in render_env(env, &v, &values::Running::same(&v), &templates)? {
            changes.insert(p, Some(bytes));
        }
        changes.insert(path.clone(), Some(text.clone().into_bytes()));
        // Both colours start on the configuration values hold.
        let released = values::Released::both(values::config_of(&v));
        changes.insert(
            workspace::released_path(env),
            Some(released.to_text().into_bytes()),
        );
    }
    // The values files point editors at the schema; keep it next to them, up to date.
    let schema = values::json_schema_text();
    let committed_schema = match &committed {
        Some(tree) => tree.read(values::SCHEMA_PATH)?,
        None => None,
    };
    if committed_schema.as_deref() != Some(schema.as_bytes()) {
        changes.insert(values::SCHEMA_PATH.to_owned(), Some(schema.into_bytes()));
    }
    let paths: Vec<String> = changes.keys().cloned().collect();
    let outcome = repo.commit(&CommitRequest {
        refname,
        expected_old: tip,
        changes,
        message: format!("{subject}\n"),
        update_worktree: true,
        allow_empty: false,
    })?;
    match outcome {
        CommitOutcome::Committed { id, .. } => Ok((id.to_string(), paths)),
        CommitOutcome::NoChange => anyhow::bail!("nothing to commit: the files already exist"),
    }
}

/// `demo`: the whole release cycle on a scratch repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DemoReport {
    /// Schema version of this report.
    pub schema_version: u32,
    /// Always `demo`.
    pub command: String,
    /// The scratch repository (kept for you to explore).
    pub repository: String,
    /// Each step with the command a user would type and its report.
    pub steps: Vec<DemoStep>,
}

/// One step of the demo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DemoStep {
    /// What the step shows.
    pub title: String,
    /// The equivalent command line.
    pub command_line: String,
    /// Report of `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusReport>,
    /// Report of a release command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseReport>,
    /// Report of `history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryReport>,
    /// Report of `verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyReport>,
}

impl DemoStep {
    fn new(title: &str, command_line: &str) -> DemoStep {
        DemoStep {
            title: title.to_owned(),
            command_line: command_line.to_owned(),
            status: None,
            release: None,
            history: None,
            verify: None,
        }
    }
}

/// The release the demo stages.
pub const DEMO_TAG: &str = "1.5.0";
/// The environment the demo releases in.
pub const DEMO_ENV: &str = "staging";

/// Builds a scratch GitOps repository from the built-in example in `dir` (a new temporary
/// directory when `None`; an existing `dir` must be empty) and runs status → stage → diff
/// (promote --dry-run) → promote → history → verify on it. Calls `each` after every step so
/// the caller can print as it goes.
pub fn demo(
    dir: Option<PathBuf>,
    clock: &StatusClock,
    mut each: impl FnMut(&DemoStep),
) -> anyhow::Result<DemoReport> {
    let dir = match dir {
        Some(d) => {
            if d.exists()
                && std::fs::read_dir(&d)
                    .with_context(|| format!("reading {}", d.display()))?
                    .next()
                    .is_some()
            {
                anyhow::bail!(
                    "{} is not empty: the demo builds a new repository and never touches \
                     existing files",
                    d.display()
                );
            }
            std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
            d
        }
        None => tempfile::Builder::new()
            .prefix("greenlight-demo-")
            .tempdir()
            .context("creating a scratch directory")?
            .keep(),
    };
    let repo = Repo::init(&dir, "main")?;
    repo.ensure_identity("greenlight demo", "demo@greenlight.invalid")?;
    let files: BTreeMap<String, String> = EXAMPLE_ENVIRONMENTS
        .iter()
        .map(|(env, text)| ((*env).to_owned(), (*text).to_owned()))
        .collect();
    commit_environments(
        &repo,
        &files,
        "init: example environments (greenlight demo)",
    )?;
    drop(repo);

    let at = || Location::find(Some(&dir));
    let repo_arg = format!("--repo {}", dir.display());
    let mut steps = Vec::new();
    let mut push = |step: DemoStep, steps: &mut Vec<DemoStep>| {
        each(&step);
        steps.push(step);
    };

    let mut s = DemoStep::new(
        "What is live now",
        &format!("greenlight status {DEMO_ENV} {repo_arg}"),
    );
    s.status = Some(status(&at()?, &[DEMO_ENV.to_owned()], clock)?);
    push(s, &mut steps);

    let mut s = DemoStep::new(
        "Stage the new release into the idle colour (pre-scaled, no traffic yet)",
        &format!("greenlight stage {DEMO_ENV} --tag {DEMO_TAG} {repo_arg}"),
    );
    let stage = ReleaseCommand::Stage(StageRequest {
        version: Some(ImageVersion::Tag(crate::values::Tag::parse(DEMO_TAG)?)),
        color: None,
    });
    s.release = Some(release_one(
        at()?,
        DEMO_ENV,
        &stage,
        false,
        &Publish::default(),
        &super::NoProgress,
    )?);
    push(s, &mut steps);

    let promote = ReleaseCommand::Promote {
        require_status: Vec::new(),
        request: PromoteRequest {
            expect_live: Some(crate::values::Color::Blue),
            expect_tag: Some(DEMO_TAG.to_owned()),
        },
    };
    let mut s = DemoStep::new(
        "The diff a reviewer approves: what promote would change",
        &format!(
            "greenlight promote {DEMO_ENV} --expect-live blue --expect-tag {DEMO_TAG} --dry-run {repo_arg}"
        ),
    );
    s.release = Some(release_one(
        at()?,
        DEMO_ENV,
        &promote,
        true,
        &Publish::default(),
        &super::NoProgress,
    )?);
    push(s, &mut steps);

    let mut s = DemoStep::new(
        "Promote: switch traffic and commit values + manifests together",
        &format!(
            "greenlight promote {DEMO_ENV} --expect-live blue --expect-tag {DEMO_TAG} {repo_arg}"
        ),
    );
    s.release = Some(release_one(
        at()?,
        DEMO_ENV,
        &promote,
        false,
        &Publish::default(),
        &super::NoProgress,
    )?);
    push(s, &mut steps);

    let mut s = DemoStep::new(
        "History, read back from the commit trailers",
        &format!("greenlight history {DEMO_ENV} {repo_arg}"),
    );
    s.history = Some(history(at()?, DEMO_ENV, 20)?);
    push(s, &mut steps);

    let mut s = DemoStep::new(
        "The reviewers' CI gate: rendered/ is exactly what values render",
        &format!("greenlight verify {repo_arg}"),
    );
    s.verify = Some(verify(&at()?, false, &super::NoProgress)?);
    push(s, &mut steps);

    Ok(DemoReport {
        schema_version: SCHEMA_VERSION,
        command: "demo".to_owned(),
        repository: dir.display().to_string(),
        steps,
    })
}
