//! The forms a git remote takes, as git reads them: a URL (`https://`, `ssh://`, `git://`,
//! `file://`, parsed by the `url` crate), git's scp-like `[user@]host:path`, or a local path;
//! and anything else is the name of a configured remote (`origin`). The one reading of a
//! remote for transport (is this a URL or a name?) and for forges (which host, which
//! project?). Pure.

/// A remote that is not a configured remote's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteUrl {
    /// `scheme://[user@]host[:port]/path`.
    Url(url::Url),
    /// git's scp-like `[user@]host:path` (a colon before any slash).
    Scp {
        /// The host, lowercased, without the user.
        host: String,
        /// The path after the colon.
        path: String,
    },
    /// A path on this machine (`/srv/git/x.git`, `./x`, `file:///srv/x.git`).
    Local(String),
}

impl RemoteUrl {
    /// How git reads `remote`; `None` when it is the name of a configured remote.
    pub fn parse(remote: &str) -> Option<RemoteUrl> {
        if remote.contains("://") {
            return Some(match url::Url::parse(remote) {
                Ok(u) if u.scheme() == "file" => RemoteUrl::Local(u.path().to_owned()),
                Ok(u) => RemoteUrl::Url(u),
                // Something git may still take (an unusual scheme): treat it as a path.
                Err(_) => RemoteUrl::Local(remote.to_owned()),
            });
        }
        if remote.starts_with('/') || remote.starts_with("./") || remote.starts_with("../") {
            return Some(RemoteUrl::Local(remote.to_owned()));
        }
        let colon = remote.find(':').filter(|c| *c > 0)?;
        if remote.find('/').is_some_and(|slash| slash < colon) {
            return None;
        }
        let (authority, path) = remote.split_at(colon);
        let host = authority.rsplit('@').next().unwrap_or(authority);
        Some(RemoteUrl::Scp {
            host: host.to_ascii_lowercase(),
            path: path[1..].to_owned(),
        })
    }

    /// The host (lowercase, without user or port); `None` for a local path.
    pub fn host(&self) -> Option<&str> {
        match self {
            RemoteUrl::Url(u) => u.host_str(),
            RemoteUrl::Scp { host, .. } => Some(host),
            RemoteUrl::Local(_) => None,
        }
    }

    /// The path on the host (or on this machine).
    pub fn path(&self) -> &str {
        match self {
            RemoteUrl::Url(u) => u.path(),
            RemoteUrl::Scp { path, .. } => path,
            RemoteUrl::Local(path) => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_remote_forms_are_told_apart() {
        let host_path = |r: &str| {
            let u = RemoteUrl::parse(r).unwrap();
            (u.host().map(str::to_owned), u.path().to_owned())
        };
        assert_eq!(
            host_path("https://bot:secret@GitHub.com:443/acme/gitops.git"),
            (Some("github.com".into()), "/acme/gitops.git".into())
        );
        assert_eq!(
            host_path("ssh://git@gitlab.example.com:2222/group/sub/project.git"),
            (
                Some("gitlab.example.com".into()),
                "/group/sub/project.git".into()
            )
        );
        assert_eq!(
            host_path("git@Codeberg.org:acme/gitops.git"),
            (Some("codeberg.org".into()), "acme/gitops.git".into())
        );
        assert_eq!(
            host_path("file:///srv/git/gitops.git"),
            (None, "/srv/git/gitops.git".into())
        );
        assert_eq!(host_path("../gitops.git"), (None, "../gitops.git".into()));
        // Names of configured remotes, and a colon after a slash (a local path git reads).
        for name in ["origin", "upstream", "a/b:c"] {
            assert_eq!(RemoteUrl::parse(name), None, "{name}");
        }
    }
}
