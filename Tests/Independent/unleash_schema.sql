-- The tables `tessera import unleash` reads, as Unleash's migrations (src/migrations in
-- github.com/Unleash/unleash) leave them, applied in their order. Only the columns and rows
-- the importer reads are kept; each statement names the migration it follows.

-- 20200416201319-create-users.js (db-migrate's createTable: 'string' is varchar(255))
CREATE TABLE users (
    id serial PRIMARY KEY NOT NULL,
    name varchar(255),
    username varchar(255) UNIQUE,
    system_id varchar(255),
    email varchar(255) UNIQUE,
    image_url varchar(255),
    password_hash varchar(255),
    login_attempts integer DEFAULT 0,
    created_at timestamp DEFAULT now(),
    seen_at timestamp
);

-- 20210212114759-add-session-table.js
CREATE TABLE unleash_session (
    sid varchar PRIMARY KEY,
    sess json NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
    expired TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX idx_unleash_session_expired ON unleash_session(expired);

-- 20210217195834-rbac-tables.js, with 20210415173116-rbac-rename-roles.js's names
CREATE TABLE IF NOT EXISTS roles (
    id SERIAL PRIMARY KEY,
    name text not null,
    description text,
    type text not null default 'custom',
    project text,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now()
);
CREATE TABLE IF NOT EXISTS role_user (
    role_id integer not null references roles (id) ON DELETE CASCADE,
    user_id integer not null references users (id) ON DELETE CASCADE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
    PRIMARY KEY (role_id, user_id)
);
INSERT INTO roles(name, description, type) VALUES ('Admin', 'Users with the global admin role have superuser access to Unleash.', 'root');
INSERT INTO roles(name, description, type) VALUES ('Editor', 'Users with this role have access most features in Unleash.', 'root');
INSERT INTO roles(name, description, type) VALUES ('Viewer', 'Users with this role can only read root resources in Unleash.', 'root');

-- 20210428103922-patch-role-table.js: project roles live in the same table
INSERT INTO roles(name, description, type, project) VALUES ('Owner', 'Full control over the project.', 'project', 'default');

-- 20220912165344-pat-tokens.js, 20221010114644-pat-auto-increment.js
CREATE TABLE personal_access_tokens (
    secret text not null primary key,
    description text,
    user_id integer not null references users (id) ON DELETE CASCADE,
    expires_at timestamp with time zone NOT NULL,
    seen_at timestamp with time zone,
    created_at timestamp with time zone not null DEFAULT now()
);
ALTER TABLE personal_access_tokens DROP CONSTRAINT personal_access_tokens_pkey;
ALTER TABLE personal_access_tokens ADD COLUMN id serial primary key;

-- 20221121133546-soft-delete-user.js
ALTER TABLE users ADD COLUMN IF NOT EXISTS deleted_at TIMESTAMP WITH TIME ZONE;
-- 20221221144132-service-account-users.js
ALTER TABLE users ADD COLUMN IF NOT EXISTS is_service boolean DEFAULT false;
-- 20231222071533-unleash-system-user.js (its created_by_user_id column left out)
ALTER TABLE users ADD COLUMN IF NOT EXISTS is_system BOOLEAN NOT NULL DEFAULT FALSE;
INSERT INTO users (id, name, username, email, is_system)
VALUES (-1337, 'Unleash System', 'unleash_system_user', 'system@getunleash.io', true);
-- 20240305131822-add-scim-id-column-to-user.js
ALTER TABLE users ADD COLUMN scim_id TEXT;

-- 20260806120000-add-verifier-to-personal-access-tokens.js
ALTER TABLE personal_access_tokens
    ALTER COLUMN secret DROP NOT NULL,
    ADD COLUMN selector TEXT UNIQUE,
    ADD COLUMN verifier TEXT,
    ADD CONSTRAINT personal_access_tokens_credential_shape CHECK (
        (secret IS NOT NULL AND selector IS NULL AND verifier IS NULL)
        OR
        (secret IS NULL AND selector IS NOT NULL AND verifier IS NOT NULL)
    );
