//! What each colour runs. A colour runs a release: an image (its block in values) and the
//! configuration that was current when it was staged. That configuration — the values keys in
//! [`CONFIG_KEYS`], with the files of `configMap` read in — is recorded per colour in
//! `environments/<env>/released.yaml`, which greenlight writes on `stage` (and `reconfigure`)
//! and nobody edits. Rendering a colour overlays its record on the current values, so an edit
//! of values reaches a colour only when that colour is staged; the record is in the tree, so
//! a reviewer sees it change and `verify` re-renders every colour from it without history.
//!
//! Pure: the caller reads and writes the file.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::{Color, ConfigMapSpec, Literal, Values, ValuesError};

/// The values keys that make up a colour's configuration: everything that goes into its
/// Deployment and its ConfigMap. The rest (names, routing, the colour blocks, the wiring) is
/// shared and applies at once.
pub const CONFIG_KEYS: &[&str] = &[
    "image",
    "port",
    "readinessProbe",
    "livenessProbe",
    "resources",
    "env",
    "envFrom",
    "labels",
    "annotations",
    "podSecurityContext",
    "securityContext",
    "configMap",
    "startupProbe",
    "container",
    "pod",
    "sidecars",
    "podLabels",
    "podAnnotations",
    "deployment",
    "autoscaling",
    "podDisruptionBudget",
    "serviceAccount",
];

/// How the record file begins.
const HEADER: &str =
    "# Written by greenlight: the configuration each colour runs, recorded when it \
was staged.\n# Edit values.yaml, not this file; `greenlight stage` ships values to the idle \
colour.\n";

/// One colour's configuration: the [`CONFIG_KEYS`] present in its values, as JSON.
pub type Config = Map<String, Json>;

/// The configuration of both colours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    blue: Config,
    green: Config,
}

/// Why a record cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReleasedError {
    /// The file is not a record greenlight wrote.
    #[error("{file}: not a record greenlight wrote: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A colour's recorded configuration does not pass the values rules.
    #[error("{file}: the configuration recorded for {color} is not valid values:\n{source}")]
    Invalid {
        /// The file.
        file: String,
        /// The colour.
        color: Color,
        /// What the values rules say.
        source: ValuesError,
    },
}

impl crate::error::Classified for ReleasedError {
    fn hint(&self) -> Option<String> {
        let file = match self {
            ReleasedError::Malformed { file, .. } | ReleasedError::Invalid { file, .. } => file,
        };
        Some(format!(
            "greenlight writes this file; restore it with `git checkout HEAD -- {file}`, or \
             stage the colour again to record what values hold now"
        ))
    }
}

/// The configuration `values` hold now (with `configMap` files already read into `data`).
pub fn config_of(values: &Values) -> Config {
    let Json::Object(mut all) = serde_json::to_value(values).expect("values serialize to JSON")
    else {
        unreachable!("values serialize to an object")
    };
    all.retain(|key, _| CONFIG_KEYS.contains(&key.as_str()));
    clean(&mut all);
    all
}

/// Drops the unset entries of `map`, at every depth: the record writes only what is set.
fn clean(map: &mut Map<String, Json>) {
    for value in map.values_mut() {
        if let Json::Object(inner) = value {
            clean(inner);
        }
    }
    map.retain(|_, value| !is_unset(value));
}

/// An absent or empty value: not written in the record, so `env: {}` and no `env` are one.
fn is_unset(value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::Object(m) => m.is_empty() || m.values().all(is_unset),
        Json::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `values` with the `configMap` files resolved: each file's content (from `read`, given the
/// path written in values) becomes a key of `data`, as the release records and renders it.
pub fn with_files_read<E>(
    values: &Values,
    mut read: impl FnMut(&str) -> Result<String, E>,
) -> Result<Values, E> {
    let mut out = values.clone();
    if let Some(cm) = out.config_map.as_mut() {
        let files = std::mem::take(&mut cm.files);
        for (key, path) in files {
            cm.data.insert(key, Literal(read(&path)?));
        }
    }
    Ok(out)
}

impl Released {
    /// Both colours running `config`: what a repository from before records (where both
    /// colours always rendered from current values), and a new environment.
    pub fn both(config: Config) -> Released {
        Released {
            blue: config.clone(),
            green: config,
        }
    }

    /// The configuration colour `color` runs.
    pub fn config(&self, color: Color) -> &Config {
        match color {
            Color::Blue => &self.blue,
            Color::Green => &self.green,
        }
    }

    /// This record with colour `color` running `config`.
    pub fn with(&self, color: Color, config: Config) -> Released {
        let mut out = self.clone();
        match color {
            Color::Blue => out.blue = config,
            Color::Green => out.green = config,
        }
        out
    }

    /// Reads the record in `text` (of `file`).
    pub fn parse(file: &str, text: &str) -> Result<Released, ReleasedError> {
        let malformed = |reason: String| ReleasedError::Malformed {
            file: file.to_owned(),
            reason,
        };
        let doc = crate::yaml::parse_document(text).map_err(|e| malformed(e.to_string()))?;
        let Json::Object(mut colors) = doc else {
            return Err(malformed(
                "expected a mapping of `blue` and `green`".to_owned(),
            ));
        };
        let mut take = |color: Color| -> Result<Config, ReleasedError> {
            match colors.remove(color.as_str()) {
                Some(Json::Object(config)) => {
                    if let Some(key) = config.keys().find(|k| !CONFIG_KEYS.contains(&k.as_str())) {
                        return Err(malformed(format!(
                            "`{color}.{key}` is not configuration (expected keys of {})",
                            crate::suggest::list(CONFIG_KEYS)
                        )));
                    }
                    Ok(config)
                }
                None => Err(malformed(format!("`{color}` is missing"))),
                Some(_) => Err(malformed(format!("`{color}` is not a mapping"))),
            }
        };
        let released = Released {
            blue: take(Color::Blue)?,
            green: take(Color::Green)?,
        };
        if let Some(key) = colors.keys().next() {
            return Err(malformed(format!(
                "`{key}` is not a colour (expected `blue` and `green`)"
            )));
        }
        Ok(released)
    }

    /// The record as greenlight writes it: a header, then each colour's configuration in
    /// block style with sorted keys (so a stage changes exactly the lines of what changed).
    pub fn to_text(&self) -> String {
        let mut doc = Map::new();
        for color in Color::ALL {
            doc.insert(
                color.as_str().to_owned(),
                Json::Object(self.config(color).clone()),
            );
        }
        format!("{HEADER}{}", crate::yaml::to_block(&Json::Object(doc)))
    }

    /// What each colour runs: `current` (validated values, `configMap` files read) with each
    /// colour's recorded configuration in place of the current one. A recorded configuration
    /// that is not the current one passes the values rules again (as values of `env`, from
    /// `file`), so what renders it can trust it.
    pub fn running(
        &self,
        current: &Values,
        env: &str,
        file: &str,
    ) -> Result<Running, ReleasedError> {
        let now = config_of(current);
        let of = |color: Color| -> Result<Values, ReleasedError> {
            let recorded = self.config(color);
            if *recorded == now {
                return Ok(current.clone());
            }
            let Json::Object(mut all) =
                serde_json::to_value(current).expect("values serialize to JSON")
            else {
                unreachable!("values serialize to an object")
            };
            all.retain(|key, _| !CONFIG_KEYS.contains(&key.as_str()));
            all.extend(recorded.clone());
            all.retain(|_, value| !value.is_null());
            let text = crate::yaml::to_block(&Json::Object(all));
            let label = format!("{file} ({color})");
            super::parse_in(env, &label, &text).map_err(|source| ReleasedError::Invalid {
                file: file.to_owned(),
                color,
                source,
            })
        };
        Ok(Running {
            blue: of(Color::Blue)?,
            green: of(Color::Green)?,
        })
    }
}

/// What each colour runs: values with that colour's released configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    blue: Values,
    green: Values,
}

impl Running {
    /// Both colours running `values` (a test, or an environment whose colours run one
    /// configuration).
    pub fn same(values: &Values) -> Running {
        Running {
            blue: values.clone(),
            green: values.clone(),
        }
    }

    /// The values colour `color` runs.
    pub fn of(&self, color: Color) -> &Values {
        match color {
            Color::Blue => &self.blue,
            Color::Green => &self.green,
        }
    }
}

/// The name of the ConfigMap holding `cm` (with files read): `<app>-` and the first 10 hex
/// digits of the SHA-256 of its data, so each distinct content has its own name.
pub fn config_map_name(app: &str, cm: &ConfigMapSpec) -> String {
    let data: BTreeMap<&String, &str> = cm.data.iter().map(|(k, v)| (k, v.0.as_str())).collect();
    let bytes = serde_json::to_vec(&data).expect("a map of strings serializes");
    format!("{app}-{}", &crate::checksum::sha256_hex(&bytes)[..10])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Vec<(String, Values)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/values/valid");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name.clone(), crate::values::parse(&name, &text).unwrap()));
        }
        assert!(out.len() >= 5);
        out
    }

    #[test]
    fn a_recorded_configuration_renders_as_it_was_recorded() {
        for (name, values) in fixtures() {
            // Both colours on the current configuration: the values themselves.
            let record = Released::both(config_of(&values));
            let running = record.running(&values, "prod", "released.yaml").unwrap();
            assert_eq!(running.of(Color::Blue), &values, "{name}");
            // The record read back from its text is the same record.
            let again = Released::parse("released.yaml", &record.to_text()).unwrap();
            assert_eq!(again, record, "{name}:\n{}", record.to_text());
            // A colour on another configuration gets it, and every other key of values.
            let mut other = values.clone();
            other.port = 8181;
            other.env.insert(
                "LOG_LEVEL".into(),
                crate::values::EnvValue::Literal(Literal("debug".into())),
            );
            let record = record.with(Color::Green, config_of(&other));
            let record = Released::parse("released.yaml", &record.to_text()).unwrap();
            let running = record.running(&values, "prod", "released.yaml").unwrap();
            assert_eq!(running.of(Color::Green), &other, "{name}");
            assert_eq!(running.of(Color::Blue), &values, "{name}");
        }
    }

    #[test]
    fn a_record_greenlight_did_not_write_is_refused_with_its_file() {
        let (_, values) = fixtures().remove(0);
        for (text, said) in [
            ("blue: [1]\ngreen: {}\n", "`blue` is not a mapping"),
            ("blue: {}\ngreen: {}\nred: {}\n", "`red` is not a colour"),
            (
                "blue: { replicas: 3 }\ngreen: {}\n",
                "`blue.replicas` is not configuration",
            ),
            ("green: {}\n", "`blue` is missing"),
            ("blue: {\n", "not a record greenlight wrote"),
        ] {
            let err = Released::parse("environments/prod/released.yaml", text).unwrap_err();
            assert!(err.to_string().contains(said), "{text}: {err}");
            assert!(err
                .to_string()
                .starts_with("environments/prod/released.yaml: "));
        }
        let mut config = config_of(&values);
        config.insert("port".into(), 0.into());
        let bad = Released::both(config_of(&values)).with(Color::Green, config);
        let err = bad.running(&values, "prod", "r.yaml").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("r.yaml: the configuration recorded for green is not valid"),
            "{err}"
        );
    }
}
