//! "Did you mean": the one rule for suggesting a known name in place of a likely typo, used
//! for unknown keys, environments, template names and every closed list of words. Pure.

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo: the
/// same word written with other case, `-` or `_` first, else the most similar by
/// Jaro-Winkler at 0.8 or more (case, `-` and `_` ignored).
pub fn closest<'c, S: AsRef<str>>(word: &str, candidates: &'c [S]) -> Option<&'c str> {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let w = norm(word);
    if let Some(exact) = candidates.iter().find(|c| norm(c.as_ref()) == w) {
        return Some(exact.as_ref());
    }
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&w, &norm(c.as_ref())), c.as_ref()))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `did you mean `x`?` for the closest candidate, if any.
pub fn did_you_mean<S: AsRef<str>>(word: &str, candidates: &[S]) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// `` `a`, `b`, `c` ``: a list of words for a message.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|i| format!("`{}`", i.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_case_and_separators_find_the_name() {
        let keys = ["replicas", "readinessProbe", "servicePort"];
        assert_eq!(closest("replica", &keys), Some("replicas"));
        assert_eq!(closest("readiness_probe", &keys), Some("readinessProbe"));
        assert_eq!(closest("SERVICEPORT", &keys), Some("servicePort"));
        assert_eq!(closest("zzz", &keys), None);
        let envs = vec!["production".to_owned(), "staging".to_owned()];
        assert_eq!(
            did_you_mean("stagin", &envs).as_deref(),
            Some("did you mean `staging`?")
        );
        assert_eq!(list(&["a", "b"]), "`a`, `b`");
    }
}
