-- At most one credential (email and password) account per user, so setting a password
-- is one atomic upsert. Duplicates left by an earlier race keep the newest row.
-- MySQL has no partial index: a generated column holds the user id of credential
-- rows only (NULL otherwise, and NULLs never collide), and is unique.
DELETE FROM "account"
WHERE "providerId" = 'credential'
  AND "id" NOT IN (
    SELECT "id" FROM (
      SELECT "id", ROW_NUMBER() OVER (
        PARTITION BY "userId" ORDER BY "updatedAt" DESC, "id"
      ) AS "rank"
      FROM "account"
      WHERE "providerId" = 'credential'
    ) AS "ranked"
    WHERE "rank" = 1
  );

ALTER TABLE "account"
  ADD COLUMN "credentialUserId" varchar(36)
    GENERATED ALWAYS AS (CASE WHEN "providerId" = 'credential' THEN "userId" END) VIRTUAL,
  ADD UNIQUE INDEX "account_credential_user_idx" ("credentialUserId");
