/* fuzz_plugin_ini: the plugins' .ini files as avg_block_io and ai_block_io read them: any bytes
 * give a configuration or errors naming file, section, key and value, never a crash or a leak;
 * an accepted configuration gives detector parameters. */
#include "ai_config.h"
#include "avg_config.h"
#include "config_msg.h"
#include "fuzz_input_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config_msgs msgs = {0};
    struct avg_config avg = {0};
    struct ai_config ai = {0};
    char path[256];

    fuzz_write_file("plugin.ini", data, size);
    snprintf(path, sizeof(path), "%s/plugin.ini", fuzz_dir());
    if (avg_config_load(path, &avg, &msgs) >= 0) {
        struct avg_params p;
        avg_config_params(&avg, &p);
    }
    avg_config_done(&avg);
    config_msgs_done(&msgs);
    if (ai_config_load(path, &ai, &msgs) >= 0) {
        struct ai_params p;
        ai_config_params(&ai, &p);
    }
    ai_config_done(&ai);
    config_msgs_done(&msgs);
    return 0;
}
