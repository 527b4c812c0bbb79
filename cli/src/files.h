/* files.h: moving one file's ciphertext between this device and the server's attachment store
 * (docs/protocol.md, "Attachments"; api.md, "Attachments").
 *
 * Upload: the file is padded with zeros to sotto_attachment_padded_size and encrypted in
 * 64 KiB chunks into a spool file under the profile (ciphertext only: constant memory, and
 * the exact bytes can be sent again after a break, which a fresh encryption could not do:
 * its key would differ). The upload's state (the spool's name, the server's upload id, the
 * file key and digest) is sealed in the store under kv "upload:<hash>", the hash of the file's
 * real path, size and modification time, so running the same command again resumes from the
 * server's Upload-Offset (HEAD) instead of starting over.
 *
 * Download: the ciphertext goes to a partial file under the profile, resumed with Range after
 * a break; it is then checked (digest, every chunk) while it is decrypted into a temporary
 * file beside the destination, and only a file that opened is renamed into place.
 */
#ifndef SOTTO_CLI_FILES_H
#define SOTTO_CLI_FILES_H

#include <stdint.h>
#include <sys/stat.h>

#include <sotto.h>

#include "client.h"
#include "progress.h"

typedef struct file_upload {
    char slot[64];    /* the kv name of the state */
    char spool[4200]; /* the ciphertext, under the profile */
    char id[40];      /* the server's upload id, "" before POST */
    uint8_t key[SOTTO_ATTACHMENT_KEYBYTES];
    uint8_t digest[SOTTO_ATTACHMENT_DIGESTBYTES];
    uint64_t size, clen;   /* the file's bytes, the ciphertext's */
    uint64_t resumed_from; /* the server's offset when this run found the upload begun */
} file_upload;

/* Finds the saved state for the open file fd (path as given, st its fstat) or makes one:
 * pads and encrypts the file into the spool and saves the state. 0 or an EXIT_* code. */
int upload_prepare(client *c, const char *path, int fd, const struct stat *st, file_upload *u,
                   progress *pg);
/* Uploads what the server lacks (tus), retrying broken connections a few times. */
int upload_run(client *c, file_upload *u, progress *pg);
/* The upload was sent in a message: forget the state and remove the spool. */
void upload_forget(client *c, file_upload *u);
void upload_clear(file_upload *u);

/* Fetches, checks and decrypts the file `a` of message `msg_id` (index from 1) into `dest`,
 * which must not exist unless `force`. 0 or an EXIT_* code (EXIT_REFUSED: it did not open). */
int download_file(client *c, const char *msg_id, size_t index, const sotto_attachment_pointer *a,
                  const char *dest, int force, progress *pg);

#endif
