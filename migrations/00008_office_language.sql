-- +goose Up
-- The office's default language: the language of its hall screens unless a screen is set to another one,
-- and of the pages that have no visitor's choice to follow. A kiosk language code (it, en, es, fr, ro, sq,
-- uk, zh, ar).
ALTER TABLE offices ADD COLUMN lang text NOT NULL DEFAULT 'it'
    CHECK (lang IN ('it', 'en', 'es', 'fr', 'ro', 'sq', 'uk', 'zh', 'ar'));

-- +goose Down
ALTER TABLE offices DROP COLUMN lang;
