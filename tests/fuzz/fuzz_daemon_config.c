/* fuzz_daemon_config: sentryd.conf as sentryd reads it: any bytes give a configuration (bad
 * values replaced by their defaults, with a warning) or an error, never a crash or a leak. */
#include "daemon_config.h"
#include "fuzz_input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct daemon_config c = {0};
    char path[256];

    fuzz_write_file("sentryd.conf", data, size);
    snprintf(path, sizeof(path), "%s/sentryd.conf", fuzz_dir());
    (void) daemon_config_load(path, true, fuzz_dir(), &c);
    daemon_config_done(&c);
    return 0;
}
