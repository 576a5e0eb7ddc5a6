//! What the templates see of the `notify` block: the Flux notification-controller Providers
//! and Alerts (one pair for the chat, one for the commit status), and the Argo CD
//! notification subscriptions written on the Application. Names, defaults and the commit
//! status expression are decided here; the templates only lay them out.
//!
//! These objects are wiring, like the Flux Kustomization they watch: they live in the
//! Kustomization's namespace (`flux-system` unless `flux.namespace` says otherwise, which is
//! where notification-controller resolves an Alert's event sources and Provider), are not
//! listed in kustomization.yaml (the folder's objects are applied into the app's namespace by
//! that very Kustomization) and are applied once by hand beside it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::grammar;
use crate::values::{cluster_status_context, Values};

/// The `provider` section: one notification-controller Provider.
#[derive(Debug, Serialize)]
pub(crate) struct Provider<'a> {
    pub(crate) name: String,
    pub(crate) namespace: &'a str,
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_ref: Option<&'a str>,
    /// A CEL expression naming the commit status: a string literal of the context greenlight
    /// requires, so the name is known before the cluster posts it.
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_status_expr: Option<String>,
}

/// The `alert` section: one Alert sending the environment's Kustomization events to a
/// Provider.
#[derive(Debug, Serialize)]
pub(crate) struct Alert<'a> {
    pub(crate) name: String,
    pub(crate) namespace: &'a str,
    provider: String,
    kustomization: String,
    /// Added to every event the Alert forwards (the chat shows it).
    event_metadata: BTreeMap<&'static str, String>,
}

/// One Provider with the Alert that feeds it; `role` (`chat` or `status`) ends both names
/// and the file names.
pub(crate) struct FluxNotification<'a> {
    pub(crate) role: &'static str,
    pub(crate) provider: Provider<'a>,
    pub(crate) alert: Alert<'a>,
}

/// The Flux notifications `values` of environment `env` ask for: none without both a
/// `flux` and a `notify` block.
pub(crate) fn flux<'a>(values: &'a Values, env: &str) -> Vec<FluxNotification<'a>> {
    let (Some(flux), Some(notify)) = (&values.flux, &values.notify) else {
        return Vec::new();
    };
    let namespace = flux.namespace.as_deref().unwrap_or("flux-system");
    let wiring = grammar::wiring_name(&values.app, env);
    let alert = |role: &'static str, event_metadata| Alert {
        name: format!("{wiring}-{role}"),
        namespace,
        provider: format!("{wiring}-{role}"),
        kustomization: wiring.clone(),
        event_metadata,
    };
    let mut out = Vec::new();
    if let Some(chat) = &notify.chat {
        out.push(FluxNotification {
            role: "chat",
            provider: Provider {
                name: format!("{wiring}-chat"),
                namespace,
                kind: chat.kind.clone(),
                channel: chat.channel.as_deref(),
                address: chat.address.as_deref(),
                secret_ref: chat.secret_ref.as_deref(),
                commit_status_expr: None,
            },
            alert: alert(
                "chat",
                BTreeMap::from([
                    ("app", values.app.to_string()),
                    ("environment", env.to_owned()),
                ]),
            ),
        });
    }
    if let Some(status) = &notify.commit_status {
        let context = cluster_status_context(values, env)
            .expect("a commitStatus beside a flux block has a context");
        out.push(FluxNotification {
            role: "status",
            provider: Provider {
                name: format!("{wiring}-status"),
                namespace,
                kind: status
                    .forge()
                    .expect("values validation requires a forge type"),
                channel: None,
                address: Some(&status.address),
                secret_ref: status.secret_ref.as_deref(),
                // A CEL string literal: the context rule allows no quote or backslash.
                commit_status_expr: Some(format!("'{context}'")),
            },
            alert: alert("status", BTreeMap::new()),
        });
    }
    out
}

/// The Argo CD triggers a notification subscribes to: a release synced and healthy, a sync
/// that failed, an application that turned degraded (the catalog's names).
const ARGO_TRIGGERS: &[&str] = &["on-deployed", "on-health-degraded", "on-sync-failed"];

/// The notification subscriptions of the Argo CD Application
/// (`notifications.argoproj.io/subscribe.<trigger>.<service>: <recipients>`), empty without a
/// `notify` block.
pub(crate) fn argocd_annotations(values: &Values) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(notify) = &values.notify else {
        return out;
    };
    let mut subscribe = |service: &str, recipient: &str| {
        for trigger in ARGO_TRIGGERS {
            out.insert(
                format!("notifications.argoproj.io/subscribe.{trigger}.{service}"),
                recipient.to_owned(),
            );
        }
    };
    if let Some(chat) = &notify.chat {
        subscribe(&chat.kind, chat.channel.as_deref().unwrap_or(""));
    }
    if let Some(status) = &notify.commit_status {
        if let Some(forge) = status.forge() {
            subscribe(&forge, "");
        }
    }
    out
}
