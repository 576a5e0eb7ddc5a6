//! README.md's values reference is real: its example parses with the values parser (with the
//! elided digest filled in) and sets every top-level key the model has, so the documentation
//! cannot drift from the code unnoticed.

#[test]
fn the_values_reference_in_readme_parses() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## The values file")
        .nth(1)
        .expect("README has a values section");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the values section starts with a yaml block");
    let text = block.replace("sha256:…", &format!("sha256:{}", "0".repeat(64)));
    let values = greenlight::values::parse("README.md", &text).unwrap_or_else(|e| panic!("{e}"));
    assert!(values.ingress.is_some() && values.liveness_probe.is_some());
    assert!(!values.env.is_empty() && !values.env_from.is_empty());
    assert!(values.resources.is_some() && values.service_port.is_some());
    assert!(!values.labels.is_empty() && !values.annotations.is_empty());
    assert!(values.pod_security_context.run_as_user.is_some());
    assert!(values.security_context.read_only_root_filesystem.is_some());
}
