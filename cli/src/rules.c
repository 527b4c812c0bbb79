/* rules.c: the server's field rules and its field-level refusals, in words (see rules.h). */
#include "rules.h"

#include <stdio.h>
#include <string.h>

#include "term.h"
#include "util.h"

int rules_fetch(client *c, json_t **rules)
{
    http_resp r = {0};
    int rc;

    *rules = NULL;
    if ((rc = client_api(c, "GET", "/api/auth/rules", NULL, &r)) != 0)
        return rc;
    if (r.status == 200 && json_is_object(json_object_get(r.body, "password")))
        *rules = json_incref(r.body);
    http_resp_clear(&r);
    return 0;
}

/* The rule row a field is checked with (the password routes' fields use the password's). */
static const json_t *rule_of(const json_t *rules, const char *field)
{
    if (!strcmp(field, "newPassword") || !strcmp(field, "currentPassword"))
        field = "password";
    else if (!strcmp(field, "name")) /* a device's, the one named field of its own */
        field = "deviceName";
    return json_object_get(rules, field);
}

static long rule_num(const json_t *rules, const char *field, const char *key)
{
    const json_t *v = json_object_get(rule_of(rules, field), key);

    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

void rules_explain_password(const json_t *rules)
{
    long lo = rule_num(rules, "password", "minLength"),
         hi = rule_num(rules, "password", "maxLength");

    if (lo < 0 || hi < 0)
        return;
    fprintf(stderr, "A password: %ld to %ld characters", lo, hi);
    if (json_array_size(json_object_get(rule_of(rules, "password"), "notEqualTo")) > 0)
        fputs(", not your email or username", stderr);
    fputs(".\n", stderr);
}

/* The field as a person calls it. */
static const char *field_words(const char *field)
{
    static const struct {
        const char *field, *words;
    } NAMES[] = {
        {"password", "password"},
        {"newPassword", "new password"},
        {"currentPassword", "current password"},
        {"displayName", "display name"},
        {"mfaCode", "two-factor code"},
        {"code", "code"},
        {"email", "email address"},
        {"username", "username"},
        {"name", "name"},
        {"token", "reset link"},
    };

    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (!strcmp(NAMES[i].field, field))
            return NAMES[i].words;
    return field;
}

/* Why, in words, with the rule's numbers when the rules are known. */
static void reason_words(char *out, size_t cap, const json_t *rules, const char *field,
                         const char *reason, long status)
{
    long lo = rule_num(rules, field, "minLength"), hi = rule_num(rules, field, "maxLength");
    const char *pattern = json_string_value(json_object_get(rule_of(rules, field), "pattern"));
    char safe[128];

    if (status == 409)
        snprintf(out, cap, "is already taken");
    else if (!strcmp(reason, "missing"))
        snprintf(out, cap, "is required");
    else if (!strcmp(reason, "too_short") && lo >= 0)
        snprintf(out, cap, "is too short: at least %ld characters", lo);
    else if (!strcmp(reason, "too_long") && hi >= 0)
        snprintf(out, cap, "is too long: at most %ld characters", hi);
    else if (!strcmp(reason, "too_short") || !strcmp(reason, "too_long"))
        snprintf(out, cap, "is too %s", reason + 4);
    else if (!strcmp(reason, "invalid_characters") && pattern != NULL)
        snprintf(out, cap, "has characters that are not allowed (it must match %s)",
                 term_safe(safe, sizeof safe, pattern));
    else if (!strcmp(reason, "invalid_characters"))
        snprintf(out, cap, "has characters that are not allowed (control or direction marks)");
    else if (!strcmp(reason, "invalid"))
        snprintf(out, cap, "is not valid");
    else if (!strcmp(reason, "equals_email"))
        snprintf(out, cap, "may not be your email address");
    else if (!strcmp(reason, "equals_username"))
        snprintf(out, cap, "may not be your username");
    else
        snprintf(out, cap, "was refused (%s)", term_safe(safe, sizeof safe, reason));
}

const char *rules_refusal(const http_resp *r, const json_t *rules, const char *what)
{
    const json_t *d = json_object_get(json_object_get(r->body, "error"), "details");
    const char *field = json_string_value(json_object_get(d, "field"));
    const char *reason = json_string_value(json_object_get(d, "reason"));
    char why[256], f[64];

    if (field == NULL || !((r->status == 400 && reason != NULL) || r->status == 409))
        return NULL;
    reason_words(why, sizeof why, rules, field, reason ? reason : "", r->status);
    fprintf(stderr, "sotto: %s: the %s %s\n", what, term_safe(f, sizeof f, field_words(field)),
            why);
    return field;
}
