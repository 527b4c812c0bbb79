/* Random opaque tokens, backup codes, and their peppered BLAKE2b storage hashes. */
#include "tokens.h"

#include <sodium.h>
#include <string.h>

#include "b64.h"

#define TOKENS_DOMAIN "sotto-v1-token"

static void tokens_hash_raw(token_purpose purpose, const uint8_t *pepper, const uint8_t *v,
                            size_t len, uint8_t out[TOKEN_HASH_BYTES])
{
    crypto_generichash_state st;
    uint8_t tag[2] = {(uint8_t)purpose, 0x00};

    crypto_generichash_init(&st, pepper, pepper ? TOKEN_PEPPER_BYTES : 0, TOKEN_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)TOKENS_DOMAIN, sizeof TOKENS_DOMAIN - 1);
    crypto_generichash_update(&st, tag, sizeof tag);
    crypto_generichash_update(&st, v, len);
    crypto_generichash_final(&st, out, TOKEN_HASH_BYTES);
    sodium_memzero(&st, sizeof st);
}

void token_generate(char out[TOKEN_STR_SIZE])
{
    uint8_t raw[TOKEN_BYTES];

    randombytes_buf(raw, sizeof raw);
    b64_encode(raw, sizeof raw, B64_URL, out, TOKEN_STR_SIZE);
    sodium_memzero(raw, sizeof raw);
}

int token_hash(token_purpose purpose, const uint8_t *pepper, const char *token, size_t len,
               uint8_t out[TOKEN_HASH_BYTES])
{
    uint8_t raw[TOKEN_BYTES];

    if (out == NULL)
        return -1;
    if (token == NULL || len != TOKEN_CHARS ||
        b64_decode_exact(token, len, B64_URL, raw, sizeof raw) != 0) {
        memset(out, 0, TOKEN_HASH_BYTES);
        return -1;
    }
    /* Hash the canonical text: decoding succeeded, so it is exactly the generated form. */
    tokens_hash_raw(purpose, pepper, (const uint8_t *)token, len, out);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

void token_hash_hex(const uint8_t hash[TOKEN_HASH_BYTES], char out[TOKEN_HASH_HEX_SIZE])
{
    sodium_bin2hex(out, TOKEN_HASH_HEX_SIZE, hash, TOKEN_HASH_BYTES);
}

void backup_codes_generate(char codes[BACKUP_CODE_COUNT][BACKUP_CODE_STR_SIZE])
{
    static const char alphabet[] = BACKUP_CODE_ALPHABET;

    for (size_t c = 0; c < BACKUP_CODE_COUNT; c++) {
        size_t o = 0;
        for (size_t i = 0; i < BACKUP_CODE_CHARS; i++) {
            if (i == 4)
                codes[c][o++] = '-';
            codes[c][o++] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
        }
        codes[c][o] = '\0';
    }
}

/* Lower-cases, drops '-' and ' ', and checks the alphabet; writes 8 chars to norm. */
static int backup_code_normalize(const char *code, size_t len, char norm[BACKUP_CODE_CHARS])
{
    size_t n = 0;

    if (code == NULL || len > 32)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = code[i];
        if (ch == '-' || ch == ' ')
            continue;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        if (ch == '\0' || strchr(BACKUP_CODE_ALPHABET, ch) == NULL || n == BACKUP_CODE_CHARS)
            return -1;
        norm[n++] = ch;
    }
    return n == BACKUP_CODE_CHARS ? 0 : -1;
}

int backup_code_hash(const uint8_t *pepper, const char *code, size_t len,
                     uint8_t out[TOKEN_HASH_BYTES])
{
    char norm[BACKUP_CODE_CHARS];
    int rc = -1;

    if (out == NULL)
        return -1;
    memset(out, 0, TOKEN_HASH_BYTES);
    if (backup_code_normalize(code, len, norm) == 0) {
        tokens_hash_raw(TOKEN_BACKUP_CODE, pepper, (const uint8_t *)norm, sizeof norm, out);
        rc = 0;
    }
    sodium_memzero(norm, sizeof norm);
    return rc;
}

int tokens_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

int tokens_str_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (a == NULL || b == NULL || alen != blen)
        return 0;
    return alen == 0 || sodium_memcmp(a, b, alen) == 0;
}
