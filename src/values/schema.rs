//! The JSON Schema of the values file, generated from the very types that parse it (with
//! schemars, honouring their serde attributes and taking every description from their doc
//! comments), so editors can offer completion and hover docs offline. It is a superset check:
//! greenlight validates more (names, image grammar, cross-field rules) than a schema can say,
//! but it never rejects a file greenlight accepts.

use schemars::generate::SchemaSettings;

use super::model::Values;

/// Where `greenlight init` writes the schema, relative to the repository root.
pub const SCHEMA_PATH: &str = "schema/values.schema.json";

/// The values file's JSON Schema (draft-07, which every YAML language server reads).
pub fn json_schema() -> serde_json::Value {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<Values>();
    schema.insert(
        "title".to_owned(),
        "greenlight values file (environments/<env>/values.yaml)".into(),
    );
    let mut schema = serde_json::to_value(schema).expect("a schema is JSON");
    // The pass-through blocks refer to the Kubernetes schema greenlight checks them with.
    let definitions = schema["definitions"]
        .as_object_mut()
        .expect("the values schema has definitions");
    definitions.extend(super::kube::schema_definitions());
    schema
}

/// The schema as pretty-printed JSON with a final newline, as written to [`SCHEMA_PATH`].
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).expect("a schema serializes");
    text.push('\n');
    text
}

/// The `yaml-language-server` modeline for the values file of `env`, pointing at
/// [`SCHEMA_PATH`] by a relative path.
pub fn modeline(env: &str) -> String {
    let depth = env.split('/').count() + 1;
    format!(
        "# yaml-language-server: $schema={}{SCHEMA_PATH}",
        "../".repeat(depth)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every property, at every level, carries a description.
    fn undocumented(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
        if let Some(props) = value.get("properties").and_then(|p| p.as_object()) {
            for (name, prop) in props {
                let here = format!("{path}.{name}");
                let described = prop.get("description").is_some()
                    || prop
                        .get("$ref")
                        .is_some_and(|_| prop.get("description").is_some());
                if !described {
                    out.push(here.clone());
                }
                undocumented(prop, &here, out);
            }
        }
        if let Some(defs) = value.get("definitions").and_then(|d| d.as_object()) {
            // Kubernetes' own definitions come without their (upstream) descriptions.
            for (name, def) in defs.iter().filter(|(n, _)| !is_kubernetes(n)) {
                undocumented(def, &format!("#{name}"), out);
            }
        }
    }

    fn is_kubernetes(definition: &str) -> bool {
        definition.starts_with("io.k8s.") || definition.starts_with("greenlight.")
    }

    #[test]
    fn every_reference_resolves() {
        let schema = json_schema();
        let text = schema.to_string();
        let defs = schema["definitions"].as_object().unwrap();
        for reference in text.split("\"$ref\":\"#/definitions/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(defs.contains_key(name), "#/definitions/{name} is missing");
        }
        assert!(defs["greenlight.Container"]["properties"]["command"].is_object());
        assert!(defs["greenlight.Container"]["properties"]
            .get("image")
            .is_none());
    }

    #[test]
    fn every_key_has_a_description() {
        let schema = json_schema();
        let mut missing = Vec::new();
        undocumented(&schema, "", &mut missing);
        assert!(
            missing.is_empty(),
            "keys without a description: {missing:?}"
        );
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema["required"]
            .as_array()
            .unwrap()
            .contains(&"liveColor".into()));
    }

    #[test]
    fn modelines_point_back_to_the_schema() {
        assert_eq!(
            modeline("staging"),
            "# yaml-language-server: $schema=../../schema/values.schema.json"
        );
        assert_eq!(
            modeline("production/eu-west/api"),
            "# yaml-language-server: $schema=../../../../schema/values.schema.json"
        );
    }
}
