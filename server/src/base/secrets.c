/* Secret generation and storage for the embedded default. The file holds two lines,
 * "JWT_SECRET=<64 hex>" and "MFA_ENCRYPTION_KEY=<64 hex>", is created with O_EXCL and mode
 * 0600, and is refused if anyone but the owner can read it. */
#include "base/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/config.h"

#define SECRETS_FILE "secrets"
#define SECRET_HEX 64

static void secrets_generate_hex(char out[SECRET_HEX + 1])
{
    unsigned char raw[SECRET_HEX / 2];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(out, SECRET_HEX + 1, raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
}

/* Writes a fresh file; EEXIST means another start won the race, which the caller reads. */
static int secrets_create(const char *path, char *err, size_t errlen)
{
    char *buf = sodium_malloc(256), jwt[SECRET_HEX + 1], mfa[SECRET_HEX + 1];
    int fd, n, rc = -1;

    if (!buf)
        return -1;
    secrets_generate_hex(jwt);
    secrets_generate_hex(mfa);
    n = snprintf(buf, 256, "JWT_SECRET=%s\nMFA_ENCRYPTION_KEY=%s\n", jwt, mfa);
    sodium_memzero(jwt, sizeof(jwt));
    sodium_memzero(mfa, sizeof(mfa));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno == EEXIST ? 0 : -1;
        if (rc)
            snprintf(err, errlen, "DATA_DIR: cannot create %s: %s", path, strerror(errno));
        goto done;
    }
    if (write(fd, buf, (size_t)n) != n || fsync(fd)) {
        snprintf(err, errlen, "DATA_DIR: cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        goto done;
    }
    close(fd);
    rc = 0;
done:
    sodium_free(buf);
    return rc;
}

static int secrets_parse_line(struct config *cfg, const char *line)
{
    static const char jwt[] = "JWT_SECRET=", mfa[] = "MFA_ENCRYPTION_KEY=";

    if (!strncmp(line, jwt, sizeof(jwt) - 1) && !cfg->jwt_secret)
        cfg->jwt_secret = config_secret_dup(line + sizeof(jwt) - 1);
    else if (!strncmp(line, mfa, sizeof(mfa) - 1) && !cfg->mfa_encryption_key)
        cfg->mfa_encryption_key = config_secret_dup(line + sizeof(mfa) - 1);
    return 0;
}

static int secrets_read(struct config *cfg, const char *path, char *err, size_t errlen)
{
    char *buf = sodium_malloc(1024);
    struct stat st;
    ssize_t n;
    int fd, rc = -1;

    if (!buf)
        return -1;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &st)) {
        snprintf(err, errlen, "DATA_DIR: cannot read %s: %s", path, strerror(errno));
        goto done;
    }
    if ((st.st_mode & 077) || st.st_uid != geteuid()) {
        snprintf(err, errlen, "DATA_DIR: %s must be owned by this user with mode 0600", path);
        goto done;
    }
    n = read(fd, buf, 1023);
    buf[n > 0 ? n : 0] = 0;
    for (char *line = buf, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line) - 1;
        else
            *nl = 0;
        secrets_parse_line(cfg, line);
    }
    if (!cfg->jwt_secret || !cfg->mfa_encryption_key || strlen(cfg->jwt_secret) < 32 ||
        strlen(cfg->mfa_encryption_key) != SECRET_HEX) {
        snprintf(err, errlen,
                 "DATA_DIR: %s is damaged; remove it to generate new secrets "
                 "(this signs everyone out)",
                 path);
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    sodium_free(buf);
    return rc;
}

int secrets_load(struct config *cfg, char *err, size_t errlen)
{
    char path[4200];

    if (cfg->jwt_secret && cfg->mfa_encryption_key)
        return 0;
    if (cfg->database_url) {
        snprintf(err, errlen, "%s: required when DATABASE_URL is set (all nodes share it)",
                 cfg->jwt_secret ? "MFA_ENCRYPTION_KEY" : "JWT_SECRET");
        return -1;
    }
    if (mkdir(cfg->data_dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "DATA_DIR: cannot create %s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, SECRETS_FILE);
    if (secrets_create(path, err, errlen))
        return -1;
    return secrets_read(cfg, path, err, errlen);
}
