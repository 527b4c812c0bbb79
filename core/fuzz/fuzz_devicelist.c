/*
 * fuzz_devicelist.c: the signed device list's parser (sotto_device_list_open). Whatever
 * opens is well formed: a count in range, ids strictly increasing, every entry found by
 * sotto_device_list_has with its own key, a version of at least 1; and it equals itself as
 * an update (the same version with the same devices).
 */
#include <string.h>

#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sotto_device_list l;

    (void)fixture_get();
    if (sotto_device_list_open(&l, data, size, NULL) != 0) {
        if (l.n != 0)
            fixture_fail("a refused list left entries behind");
        return 0;
    }
    if (l.n < 1 || l.n > SOTTO_DEVICE_LIST_MAX || l.version == 0 ||
        sotto_device_list_signed_size(l.n) != size)
        fixture_fail("an opened list is out of range");
    for (size_t i = 0; i < l.n; i++) {
        if (i && memcmp(l.devices[i - 1].device_id, l.devices[i].device_id, 16) >= 0)
            fixture_fail("device ids not strictly increasing");
        if (!sotto_device_list_has(&l, l.devices[i].device_id, l.devices[i].signing_key))
            fixture_fail("a listed device is not found");
    }
    if (sotto_device_list_update_ok(&l, &l) != 0)
        fixture_fail("a list is not its own repeat");
    return 0;
}
