-- 0010_user_language: the language an account chose for what the server writes to it, its
-- mails (identical on both backends). "en" or "vi" (mail/templates.h); set at registration
-- or by PATCH /api/users/me, English until then.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
