//! Landed migrations are immutable: `scripts/migrations.sh check` (also a step of `make test`)
//! fails, naming the file, when one listed in `migrations/landed.sha256` changed or disappeared.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

const EDITED: &str = "20261121000002_integration_health.sql";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A private copy of `migrations/`, removed when dropped.
struct Copy(PathBuf);

impl Copy {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("repopal-migrations-{}", uuid::Uuid::new_v4()));
        fs::create_dir(&dir).expect("temp dir");
        for entry in fs::read_dir(repo_root().join("migrations")).expect("migrations/") {
            let entry = entry.expect("entry");
            fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
        }
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn append(&self, name: &str, text: &str) {
        let mut sql = fs::read_to_string(self.path(name)).unwrap_or_default();
        sql.push_str(text);
        fs::write(self.path(name), sql).expect("write");
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&self.0)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs the script; returns whether it succeeded and what it printed on stderr.
fn script(command: &str, dir: Option<&Path>) -> (bool, String) {
    let mut cmd = Command::new(repo_root().join("scripts/migrations.sh"));
    cmd.arg(command);
    if let Some(dir) = dir {
        cmd.arg(dir);
    }
    let out = cmd.output().expect("scripts/migrations.sh runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn this_checkouts_landed_migrations_are_unchanged() {
    let (ok, stderr) = script("check", None);
    assert!(ok, "{stderr}");
    let manifest =
        fs::read_to_string(repo_root().join("migrations/landed.sha256")).expect("the manifest");
    assert!(manifest.contains(EDITED), "{manifest}");
}

#[test]
fn editing_a_landed_migration_fails_the_check_naming_it() {
    let copy = Copy::new();
    assert!(script("check", Some(&copy.0)).0);

    copy.append(
        EDITED,
        "\nALTER TABLE integrations ADD COLUMN sneaky int;\n",
    );
    let (ok, stderr) = script("check", Some(&copy.0));
    assert!(!ok, "an edited landed migration passed");
    assert!(
        stderr.contains(&format!("landed migration {EDITED} was changed")),
        "{stderr}"
    );
    // Nor can it be landed over.
    let (ok, _) = script("land", Some(&copy.0));
    assert!(!ok);
}

#[test]
fn removing_a_landed_migration_fails_the_check_naming_it() {
    let copy = Copy::new();
    fs::remove_file(copy.path(EDITED)).expect("remove");
    let (ok, stderr) = script("check", Some(&copy.0));
    assert!(!ok);
    assert!(
        stderr.contains(&format!("landed migration {EDITED} has disappeared")),
        "{stderr}"
    );
}

#[test]
fn a_new_migration_passes_and_once_landed_is_frozen_too() {
    let copy = Copy::new();
    let new = "20991231000000_add_widget_colour.sql";
    copy.append(new, "ALTER TABLE integrations ADD COLUMN colour text;\n");
    let (ok, stderr) = script("check", Some(&copy.0));
    assert!(ok, "a migration not yet landed may change: {stderr}");

    let (ok, stderr) = script("land", Some(&copy.0));
    assert!(ok, "{stderr}");
    let manifest = fs::read_to_string(copy.path("landed.sha256")).expect("the manifest");
    assert!(manifest.trim_end().ends_with(new), "appended: {manifest}");
    assert!(script("check", Some(&copy.0)).0);

    copy.append(new, "-- a correction in place\n");
    let (ok, stderr) = script("check", Some(&copy.0));
    assert!(!ok);
    assert!(stderr.contains(new), "{stderr}");
}

#[test]
fn a_new_migration_dated_before_a_landed_one_fails() {
    let copy = Copy::new();
    let early = "20261121000003_fix_integration_health.sql";
    copy.append(early, "SELECT 1;\n");
    let (ok, stderr) = script("check", Some(&copy.0));
    assert!(
        !ok,
        "it would sort before migrations production already ran"
    );
    assert!(stderr.contains(early), "{stderr}");
}

#[test]
fn rewriting_the_manifest_with_the_edit_fails_where_git_history_is_at_hand() {
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("git is not installed; the history check cannot run here");
        return;
    }
    let copy = Copy::new();
    copy.git(&["init", "-q"]);
    copy.git(&["add", "."]);
    copy.git(&["commit", "-q", "-m", "landed"]);

    copy.append(
        EDITED,
        "\nALTER TABLE integrations ADD COLUMN sneaky int;\n",
    );
    let manifest = fs::read_to_string(copy.path("landed.sha256")).expect("the manifest");
    let rewritten: String = manifest
        .lines()
        .filter(|l| !l.ends_with(EDITED))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(copy.path("landed.sha256"), rewritten).expect("write the manifest");
    let (ok, _) = script("land", Some(&copy.0));
    assert!(!ok, "land refuses a manifest that lost a line");
    // Even when the line is re-added with the new hash and committed.
    let out = Command::new("sha256sum")
        .arg(EDITED)
        .current_dir(&copy.0)
        .output()
        .expect("sha256sum runs");
    copy.append("landed.sha256", &String::from_utf8_lossy(&out.stdout));
    copy.git(&["commit", "-q", "-am", "quietly edit a landed migration"]);

    let (ok, stderr) = script("check", Some(&copy.0));
    assert!(!ok, "the rewritten hash passed");
    assert!(
        stderr.contains("edited or removed") && stderr.contains(EDITED),
        "{stderr}"
    );
}
