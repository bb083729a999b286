-- Better Auth 1.7's username schema, as its MySQL adapter creates it: the
-- normalised (lower-case) username, unique (varchar(255): MySQL indexes no
-- unbounded text), and the username as its owner typed it. One statement,
-- so it applies whole or not at all.
ALTER TABLE "user"
  ADD COLUMN "username" varchar(255),
  ADD COLUMN "displayUsername" text,
  ADD UNIQUE INDEX "user_username_unique" ("username");
