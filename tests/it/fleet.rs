//! `greenlight status` without ENV: one aligned table of the whole fleet (text) and the same
//! rows in JSON, from one walk of history for every environment.

use crate::common::sandbox::{Sandbox, T0};

const VALUES: &str = crate::common::sandbox::VALUES;

/// Four environments: `production` promoted 10 minutes before `now` (green live, blue warm),
/// `staging` with 1.5.0 staged, `qa` promoted and scaled down, `dev` untouched.
fn fleet() -> (Sandbox, i64) {
    let s = Sandbox::with_values(VALUES);
    for env in ["staging", "qa", "dev"] {
        s.write(
            &format!("environments/{env}/values.yaml"),
            &VALUES.replace("shop", env),
        );
    }
    s.greenlight(&["render", "--all"]).ok();
    s.git(&["add", "-A"]);
    s.git(&["commit", "-q", "-m", "more environments"]);
    for env in ["production", "staging", "qa"] {
        s.greenlight(&["stage", env, "--tag", "1.5.0"]).ok();
    }
    s.at(T0 + 3_600);
    s.greenlight(&["promote", "qa"]).ok();
    s.at(T0 + 7_200);
    s.greenlight(&["promote", "production"]).ok();
    let now = T0 + 7_200 + 600;
    s.greenlight_in(&s.root, &["scale-down", "qa"], Some(now))
        .ok();
    (s, now)
}

#[test]
fn the_table_has_one_aligned_row_per_environment() {
    let (s, now) = fleet();
    let r = s.greenlight_in(&s.root, &["status"], Some(now)).ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", r.stdout);
    let header = lines[0];
    for column in [
        "ENV",
        "LIVE",
        "IDLE",
        "REPLICAS",
        "STATE",
        "LAST FLIP",
        "AGE",
        "WARM LEFT",
    ] {
        assert!(header.contains(column), "{header}");
    }
    // Every column starts at the same offset in every row.
    let starts: Vec<usize> = ["APP", "LIVE", "STATE", "LAST FLIP"]
        .iter()
        .map(|c| header.find(c).unwrap())
        .collect();
    for line in &lines[1..] {
        for &start in &starts {
            assert!(
                line[..start].ends_with("  ") && !line[start..].starts_with(' '),
                "misaligned at {start}:\n{}",
                r.stdout
            );
        }
    }
    let row = |env: &str| -> Vec<&str> {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{env} ")))
            .unwrap_or_else(|| panic!("no row for {env}:\n{}", r.stdout))
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    };
    let production = row("production");
    assert_eq!(
        &production[1..8],
        ["api", "green", "1.5.0", "blue", "1.4.0", "3", "warm"]
    );
    assert!(production[8].starts_with("promote "), "{production:?}");
    assert_eq!(&production[9..], ["10m", "20m"]);
    let staging = row("staging");
    assert_eq!(
        &staging[2..8],
        ["blue", "1.4.0", "green", "1.5.0", "3", "staged"]
    );
    assert_eq!(&staging[8..], ["-", "-", "-"]);
    let qa = row("qa");
    assert_eq!(
        &qa[2..8],
        ["green", "1.5.0", "blue", "1.4.0", "0", "scaled-down"]
    );
    assert_eq!(qa[9], "1h10m");
    let dev = row("dev");
    assert_eq!(&dev[4..8], ["green", "none", "0", "empty"]);
    assert!(!r.stdout.contains('\x1b'), "no colour on a pipe");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let (s, now) = fleet();
    let r = s
        .greenlight_in(&s.root, &["status", "--ansi", "always"], Some(now))
        .ok();
    assert!(r.stdout.contains("\x1b[32mgreen"), "{}", r.stdout);
    assert!(r.stdout.contains("\x1b[34mblue"), "{}", r.stdout);
    // NO_COLOR is set by the sandbox: `auto` stays plain even with --ansi auto.
    let r = s
        .greenlight_in(&s.root, &["status", "--ansi", "auto"], Some(now))
        .ok();
    assert!(!r.stdout.contains('\x1b'));
}

#[test]
fn json_gives_the_same_rows() {
    let (s, now) = fleet();
    let r = s
        .greenlight_in(&s.root, &["status", "--output", "json"], Some(now))
        .ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["now"], now);
    let envs = v["environments"].as_array().unwrap();
    let names: Vec<&str> = envs
        .iter()
        .map(|e| e["environment"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev", "production", "qa", "staging"]);
    let production = &envs[1];
    assert_eq!(production["idleState"], "warm");
    assert_eq!(production["warmSecondsLeft"], 1_200);
    assert_eq!(production["lastFlip"]["action"], "promote");
    assert_eq!(envs[3]["idleState"], "staged");
    assert_eq!(envs[3]["staged"], "green");
    assert_eq!(envs[2]["idleState"], "scaled-down");
    assert_eq!(envs[0]["idleState"], "empty");
}

#[test]
fn one_walk_for_the_fleet_finds_what_one_walk_per_environment_finds() {
    let (s, _) = fleet();
    // A rollback too, so every kind of record is in the history.
    s.greenlight(&["rollback", "production"]).ok();
    let repo = greenlight::repo::Repo::open(&s.root).unwrap();
    let tip = repo.branch_tip("refs/heads/main").unwrap().unwrap();
    let envs: Vec<String> = ["dev", "production", "qa", "staging"]
        .map(String::from)
        .to_vec();
    let fleet = greenlight::history::scan_histories(&repo, tip, &envs).unwrap();
    for env in &envs {
        let one = greenlight::history::scan_history(&repo, tip, env).unwrap();
        let all = &fleet[env];
        assert_eq!(one.state, all.state, "{env}");
        assert_eq!(one.last_promotion, all.last_promotion, "{env}");
        assert_eq!(one.last_flip, all.last_flip, "{env}");
    }
    assert_eq!(
        fleet["production"].last_flip.as_ref().unwrap().action,
        "rollback"
    );
    assert!(fleet["dev"].last_flip.is_none());
}
