//! The `notify` block: how the cluster's GitOps controller reports back, without greenlight
//! ever talking to the cluster. With the `flux` block it renders notification-controller
//! Providers and Alerts (a chat that hears of every release the cluster applies, and the
//! commit status `promote --require-status` and `wait` read); with the `argocd` block, the
//! Application's notification subscriptions.
//!
//! `notify` is shared wiring, not configuration a colour runs: it is not in `CONFIG_KEYS` and
//! changes apply with the commit that makes them. This module declares the shape and the
//! status context the cluster will post; its checks live in `values::validate`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Values;
use crate::grammar;

/// The `notify` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Notify {
    /// Announce every release the cluster applies (and every failure) in a chat.
    #[serde(default)]
    pub chat: Option<Chat>,
    /// Have the cluster post the health of each commit it applies as a commit status.
    #[serde(default)]
    pub commit_status: Option<CommitStatus>,
}

/// Where releases are announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Chat {
    /// Flux: a Provider type (`slack`, `msteams`, `discord`, `googlechat`, `matrix`, ...).
    /// Argo CD: the notification service (`slack`, `teams`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The channel (Slack: its name; Argo CD: the subscription's recipient).
    #[serde(default)]
    pub channel: Option<String>,
    /// Flux: the Provider's address (a webhook URL), unless the Secret holds it.
    #[serde(default)]
    pub address: Option<String>,
    /// Flux: the Secret (in the Provider's namespace) with the token or the address.
    #[serde(default)]
    pub secret_ref: Option<String>,
}

/// The commit status the cluster posts on each commit it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommitStatus {
    /// The GitOps repository on its forge, e.g. `https://github.com/acme/gitops`.
    pub address: String,
    /// The forge: `github`, `gitlab`, `gitea` (Flux also: `bitbucket`, `bitbucketserver`,
    /// `azuredevops`); from the address's host when absent (github.com, gitlab.com,
    /// codeberg.org, hosts named gitlab.*, gitea.*, forgejo.*).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Flux: the Secret (in the Provider's namespace) holding the forge token (`token` key).
    #[serde(default)]
    pub secret_ref: Option<String>,
    /// The status context; `kustomization/<app>-<env>` with Flux (rendered into the
    /// Provider's `commitStatusExpr`), `continuous-delivery/<app>-<env>` with Argo CD (the
    /// label of its notification template).
    #[serde(default)]
    pub context: Option<String>,
}

impl CommitStatus {
    /// The forge type: `type`, or what the address's host says.
    pub fn forge(&self) -> Option<String> {
        self.kind.clone().or_else(|| {
            let url = url::Url::parse(&self.address).ok()?;
            grammar::forge_of_host(url.host_str()?).map(str::to_owned)
        })
    }
}

/// The status context the cluster posts for the environment `env` whose values are `values`
/// (what `--require-cluster-status` and `wait` without `--status` require), or `None` when
/// its `notify` block has no `commitStatus` (or there is no `flux` / `argocd` to post it).
pub fn cluster_status_context(values: &Values, env: &str) -> Option<String> {
    let status = values.notify.as_ref()?.commit_status.as_ref()?;
    if let Some(context) = &status.context {
        return Some(context.clone());
    }
    let name = grammar::wiring_name(&values.app, env);
    if values.flux.is_some() {
        Some(format!("kustomization/{name}"))
    } else if values.argocd.is_some() {
        Some(format!("continuous-delivery/{name}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "app: api\nnamespace: shop\nliveColor: blue\n\
        image: registry.example.com/api\nblue: { tag: \"1\", replicas: 1 }\n\
        green: { replicas: 0 }\nport: 8080\nreadinessProbe: { path: /healthz }\n";

    #[test]
    fn the_cluster_context_follows_the_controller_or_the_values() {
        let flux = format!(
            "{BASE}flux: {{ sourceRef: {{ kind: GitRepository, name: gitops }} }}\n\
             notify:\n  commitStatus: {{ address: \"https://github.com/acme/gitops\", \
             secretRef: gitops-token }}\n"
        );
        let v = super::super::parse_in("production/eu", "values.yaml", &flux).unwrap();
        assert_eq!(
            cluster_status_context(&v, "production/eu").as_deref(),
            Some("kustomization/api-production-eu")
        );
        let status = v.notify.as_ref().unwrap().commit_status.as_ref().unwrap();
        assert_eq!(status.forge().as_deref(), Some("github"));

        let argo = format!(
            "{BASE}argocd: {{ repoURL: \"https://gitlab.example.com/acme/gitops.git\", \
             destination: {{ server: \"https://kubernetes.default.svc\" }} }}\n\
             notify:\n  commitStatus: {{ address: \"https://gitlab.example.com/acme/gitops\" }}\n"
        );
        let v = super::super::parse_in("qa", "values.yaml", &argo).unwrap();
        assert_eq!(
            cluster_status_context(&v, "qa").as_deref(),
            Some("continuous-delivery/api-qa")
        );

        let named = argo.replace(
            "gitops\" }\n",
            "gitops\", context: \"deploy/qa\", type: gitea }\n",
        );
        let v = super::super::parse_in("qa", "values.yaml", &named).unwrap();
        assert_eq!(
            cluster_status_context(&v, "qa").as_deref(),
            Some("deploy/qa")
        );
        let v = super::super::parse_in("qa", "values.yaml", BASE).unwrap();
        assert_eq!(cluster_status_context(&v, "qa"), None);
    }
}
