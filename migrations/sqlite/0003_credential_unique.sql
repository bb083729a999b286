-- At most one credential (email and password) account per user, so setting a password
-- is one atomic upsert. Duplicates left by an earlier race keep the newest row.
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

CREATE UNIQUE INDEX IF NOT EXISTS "account_credential_user_idx"
  ON "account" ("userId", "providerId")
  WHERE "providerId" = 'credential';
