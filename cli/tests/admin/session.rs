//! `better-auth session list | revoke` and `user set-password` ending sessions.

use better_auth::prelude::Session;
use better_auth::store::{Database, sessions, users};
use better_auth_test_support::all_backends;
use chrono::{Duration, Utc};
use serde_json::Value;

use crate::common::{TestDb, block_on, show, snapshot, text, with_db};

/// Adds a session row for the user, as a sign-in would, expiring `expires_in` from now.
fn add_session(
    db: &TestDb,
    email: &str,
    expires_in: Duration,
    ip: Option<&str>,
    agent: Option<&str>,
) -> String {
    let url = db.url.clone();
    let email = email.to_owned();
    let (ip, agent) = (ip.map(str::to_owned), agent.map(str::to_owned));
    block_on(async move {
        let database = Database::connect(&url).await.unwrap();
        let user = users::find_by_email(&database, &email)
            .await
            .unwrap()
            .unwrap();
        let now = Utc::now();
        let mut session = Session::new(
            better_auth::crypto::generate_id(),
            better_auth::crypto::token_digest(&better_auth::crypto::generate_token()),
            user.id,
            now + expires_in,
            now - Duration::seconds(1),
        );
        session.updated_at = now;
        session.ip_address = ip;
        session.user_agent = agent;
        sessions::create(&database, &session).await.unwrap();
        database.close().await;
        session.id
    })
}

fn session_ids(db: &TestDb, email: &str) -> Vec<String> {
    let json: Value =
        serde_json::from_str(&db.ok(&["session", "list", "--user", email, "--json"])).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

all_backends!(list_and_revoke, with_db, |db: TestDb| {
    db.ok(&["migrate"]);
    db.create_user("ada@example.com", "Ada");
    db.create_user("grace@example.com", "Grace");
    let first = add_session(
        &db,
        "ada@example.com",
        Duration::days(7),
        Some("203.0.113.7"),
        Some("Mozilla/5.0 (X11; Linux x86_64)"),
    );
    let second = add_session(
        &db,
        "ada@example.com",
        Duration::days(6),
        None,
        Some("curl/8.5.0\x1b[31m"),
    );
    let expired = add_session(
        &db,
        "ada@example.com",
        Duration::seconds(-5),
        Some("198.51.100.1"),
        None,
    );
    let graces = add_session(&db, "grace@example.com", Duration::days(7), None, None);

    let list = db.run(&["session", "list", "--user", "ada@example.com"]);
    assert!(list.status.success(), "{}", show(&list));
    let shown = text(&list.stdout);
    assert!(shown.contains(&first) && shown.contains(&second) && !shown.contains(&expired));
    assert!(!shown.contains('\x1b'), "control characters are escaped");
    snapshot("session_list", &db.redact(&list));

    let json: Value =
        serde_json::from_str(&db.ok(&["session", "list", "--user", "ada@example.com", "--json"]))
            .unwrap();
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), 2);
    let mut keys: Vec<&str> = items[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "createdAt",
            "expiresAt",
            "id",
            "ipAddress",
            "updatedAt",
            "userAgent",
            "userId"
        ]
    );
    let with_ip = items.iter().find(|s| s["id"] == first.as_str()).unwrap();
    assert_eq!(with_ip["ipAddress"], "203.0.113.7");
    let without_ip = items.iter().find(|s| s["id"] == second.as_str()).unwrap();
    assert_eq!(without_ip["ipAddress"], Value::Null);

    // Destructive: refused without a terminal unless --yes.
    let err = db.fails(&["session", "revoke", &first], "");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(session_ids(&db, "ada@example.com").len(), 2);

    let revoke = db.run(&["session", "revoke", &first, "--yes"]);
    assert!(revoke.status.success(), "{}", show(&revoke));
    snapshot("session_revoke_id", &db.redact(&revoke));
    assert_eq!(session_ids(&db, "ada@example.com"), vec![second]);
    let err = db.fails(&["session", "revoke", &first, "--yes"], "");
    assert!(err.contains("no session with id"), "{err}");

    let expired_gone = db.run(&["session", "revoke", "--all-expired", "--yes"]);
    assert!(
        text(&expired_gone.stdout).contains("Deleted 1 expired session"),
        "{}",
        show(&expired_gone)
    );
    snapshot("session_revoke_all_expired", &db.redact(&expired_gone));

    let revoke_user = db.run(&["session", "revoke", "--user", "ada@example.com", "--yes"]);
    assert!(
        text(&revoke_user.stdout).contains("Revoked 1 session of ada@example.com"),
        "{}",
        show(&revoke_user)
    );
    snapshot("session_revoke_user", &db.redact(&revoke_user));
    assert_eq!(
        db.ok(&["session", "list", "--user", "ada@example.com"]),
        "No active sessions for ada@example.com.\n"
    );
    // Other users keep theirs.
    assert_eq!(session_ids(&db, "grace@example.com"), [graces]);
});

all_backends!(revoke_takes_exactly_one_target, with_db, |db: TestDb| {
    db.ok(&["migrate"]);
    for args in [
        &["session", "revoke", "--yes"][..],
        &["session", "revoke", "abc", "--all-expired", "--yes"],
        &[
            "session",
            "revoke",
            "--user",
            "a@example.com",
            "--all-expired",
            "--yes",
        ],
    ] {
        let out = db.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", show(&out));
    }
});

all_backends!(
    set_password_ends_every_session_of_the_user,
    with_db,
    |db: TestDb| {
        db.ok(&["migrate"]);
        db.create_user("ada@example.com", "Ada");
        db.create_user("grace@example.com", "Grace");
        add_session(&db, "ada@example.com", Duration::days(7), None, None);
        add_session(&db, "ada@example.com", Duration::days(7), None, None);
        add_session(&db, "grace@example.com", Duration::days(7), None, None);
        let out = db.run_with_stdin(
            &[
                "user",
                "set-password",
                "--email",
                "ada@example.com",
                "--password-stdin",
            ],
            "a brand new password\n",
        );
        assert!(out.status.success(), "{}", show(&out));
        snapshot("user_set_password", &db.redact(&out));
        assert!(session_ids(&db, "ada@example.com").is_empty());
        assert_eq!(session_ids(&db, "grace@example.com").len(), 1);

        // A weak password changes nothing and keeps the sessions.
        add_session(&db, "ada@example.com", Duration::days(7), None, None);
        let err = db.fails(
            &[
                "user",
                "set-password",
                "--email",
                "ada@example.com",
                "--password-stdin",
            ],
            "short",
        );
        assert!(err.contains("too short"), "{err}");
        assert_eq!(session_ids(&db, "ada@example.com").len(), 1);
    }
);
