//! `better-auth user create --role`, `user set-role`, `user ban` and
//! `user unban` on a database the admin plugin set up, read back through an
//! instance with the plugin (as a running app sees them).

use better_auth::prelude::User;
use better_auth::store::{Database, users};
use better_auth::{AuthConfig, BetterAuth};
use better_auth_test_support::all_backends;
use serde_json::Value;

use crate::common::{PASSWORD, TestDb, block_on, with_db};

/// Builds an instance with the admin plugin, which adds its columns.
fn install_admin(db: &TestDb) {
    let _ = view(db, None);
}

/// The user as an app with the admin plugin reads them.
fn view(db: &TestDb, email: Option<&str>) -> Option<User> {
    let (url, email) = (db.url.clone(), email.map(str::to_owned));
    block_on(async move {
        let database = Database::connect(&url).await.unwrap();
        let auth = BetterAuth::new(AuthConfig::new("an-admin-test-secret-of-enough-length"))
            .database(database.clone())
            .plugin(better_auth_admin::AdminPlugin::new())
            .build()
            .await
            .unwrap();
        let user = match email {
            Some(email) => users::find_by_email(auth.database(), &email).await.unwrap(),
            None => None,
        };
        drop(auth);
        database.close().await;
        user
    })
}

fn field(user: &User, name: &str) -> Value {
    user.field(name).cloned().unwrap_or(Value::Null)
}

/// A session row for the user, as a sign-in would make.
fn add_session(db: &TestDb, email: &str) {
    let (url, email) = (db.url.clone(), email.to_owned());
    block_on(async move {
        use better_auth::prelude::Session;
        use better_auth::store::sessions;
        let database = Database::connect(&url).await.unwrap();
        let user = users::find_by_email(&database, &email)
            .await
            .unwrap()
            .unwrap();
        let now = chrono::Utc::now();
        let session = Session::new(
            better_auth::crypto::generate_id(),
            better_auth::crypto::token_digest(&better_auth::crypto::generate_token()),
            user.id,
            now + chrono::Duration::days(1),
            now,
        );
        sessions::create(&database, &session).await.unwrap();
        database.close().await;
    });
}

// The admin plugin has no MySQL migration yet.
all_backends!(
    roles_and_bans_from_the_command_line,
    with_db,
    |db: TestDb| {
        db.ok(&["migrate"]);
        db.create_user("ada@example.com", "Ada");
        // Without the plugin's columns: a clear refusal, nothing written.
        let none = db.fails(
            &[
                "user",
                "set-role",
                "--email",
                "ada@example.com",
                "--role",
                "admin",
            ],
            "",
        );
        assert!(none.contains("this database has no roles"), "{none}");
        let none = db.fails(
            &[
                "user",
                "create",
                "--email",
                "root@example.com",
                "--name",
                "Root",
                "--role",
                "admin",
                "--password-stdin",
            ],
            PASSWORD,
        );
        assert!(none.contains("this database has no roles"), "{none}");
        assert!(!db.ok(&["user", "list"]).contains("root@example.com"));

        install_admin(&db);
        let out = db.run_with_stdin(
            &[
                "user",
                "create",
                "--email",
                "root@example.com",
                "--name",
                "Root",
                "--role",
                "admin",
                "--password-stdin",
            ],
            PASSWORD,
        );
        assert!(out.status.success(), "{out:?}");
        let root = view(&db, Some("root@example.com")).unwrap();
        assert_eq!(field(&root, "role"), "admin");

        let bad = db.fails(
            &[
                "user",
                "set-role",
                "--email",
                "ada@example.com",
                "--role",
                "a b",
            ],
            "",
        );
        assert!(bad.contains("invalid role"), "{bad}");
        let done = db.ok(&[
            "user",
            "set-role",
            "--email",
            "ada@example.com",
            "--role",
            "support, admin",
        ]);
        assert!(
            done.contains("ada@example.com now has the role support,admin"),
            "{done}"
        );
        assert_eq!(
            field(&view(&db, Some("ada@example.com")).unwrap(), "role"),
            "support,admin"
        );

        // A ban ends the user's sessions; it asks first.
        add_session(&db, "ada@example.com");
        add_session(&db, "ada@example.com");
        db.fails(&["user", "ban", "--email", "ada@example.com"], "");
        let past = db.fails(
            &[
                "user",
                "ban",
                "--email",
                "ada@example.com",
                "--until",
                "2001-01-01",
                "--yes",
            ],
            "",
        );
        assert!(past.contains("is not in the future"), "{past}");
        let banned = db.ok(&[
            "user",
            "ban",
            "--email",
            "ada@example.com",
            "--reason",
            "spam",
            "--until",
            "2999-01-31",
            "--yes",
        ]);
        assert!(
            banned.contains(
                "Banned ada@example.com until 2999-01-31T00:00:00.000Z; 2 sessions ended"
            ),
            "{banned}"
        );
        let ada = view(&db, Some("ada@example.com")).unwrap();
        assert_eq!(field(&ada, "banned"), true);
        assert_eq!(field(&ada, "banReason"), "spam");
        assert_eq!(field(&ada, "banExpires"), "2999-01-31T00:00:00.000Z");
        let sessions: Value = serde_json::from_str(&db.ok(&[
            "session",
            "list",
            "--user",
            "ada@example.com",
            "--json",
        ]))
        .unwrap();
        assert_eq!(sessions, serde_json::json!([]));

        let lifted = db.ok(&["user", "unban", "--email", "ada@example.com"]);
        assert!(
            lifted.contains("Lifted the ban of ada@example.com"),
            "{lifted}"
        );
        let ada = view(&db, Some("ada@example.com")).unwrap();
        assert_eq!(field(&ada, "banned"), false);
        assert_eq!(field(&ada, "banExpires"), Value::Null);
        let again = db.fails(&["user", "unban", "--email", "ada@example.com"], "");
        assert!(again.contains("is not banned"), "{again}");
    }
);
