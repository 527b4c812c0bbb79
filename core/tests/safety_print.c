/*
 * safety_print.c: prints libsotto's safety number and QR payload for the users and keys
 * on its command line, for core/tests/safety.test.mjs to compare with its own computation
 * (Node's crypto, no libsodium).
 *
 *   core_safety_print USER_A KEYS_A_HEX USER_B KEYS_B_HEX   ->   DIGITS QR_HEX
 *   core_safety_print --accounts USER_A ACCOUNT_KEY_A_HEX USER_B ACCOUNT_KEY_B_HEX -> DIGITS
 *   (version 2, over account keys: sotto_safety_number_accounts)
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "sotto.h"

int main(int argc, char **argv)
{
    static uint8_t ka[SOTTO_SAFETY_MAX_DEVICES * 32], kb[SOTTO_SAFETY_MAX_DEVICES * 32];
    uint8_t qr[SOTTO_SAFETY_QRBYTES];
    char digits[SOTTO_SAFETY_DIGITS + 1], hex[2 * SOTTO_SAFETY_QRBYTES + 1];
    size_t la, lb;
    int accounts = argc == 6 && strcmp(argv[1], "--accounts") == 0;

    argv += accounts;
    argc -= accounts;
    if (argc != 5 || sotto_init() != 0 ||
        sodium_hex2bin(ka, sizeof ka, argv[2], strlen(argv[2]), NULL, &la, NULL) != 0 ||
        sodium_hex2bin(kb, sizeof kb, argv[4], strlen(argv[4]), NULL, &lb, NULL) != 0 || la % 32 ||
        lb % 32) {
        fprintf(stderr, "usage: %s USER_A KEYS_A_HEX USER_B KEYS_B_HEX\n", argv[0]);
        return 2;
    }
    if (accounts) {
        if (la != 32 || lb != 32 || sotto_safety_number_accounts(digits, argv[1], ka, argv[3], kb))
            printf("refused\n");
        else
            printf("%s\n", digits);
        return 0;
    }
    if (sotto_safety_number(digits, argv[1], ka, la / 32, argv[3], kb, lb / 32) != 0 ||
        sotto_safety_qr(qr, argv[1], ka, la / 32, argv[3], kb, lb / 32) != 0) {
        printf("refused\n");
        return 0;
    }
    sodium_bin2hex(hex, sizeof hex, qr, sizeof qr);
    printf("%s %s\n", digits, hex);
    return 0;
}
