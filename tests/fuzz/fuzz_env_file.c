/* fuzz_env_file: env_file contents as a task's environment is made from them: any bytes give an
 * environment (every entry NAME=value) or a refusal, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "env_file.h"
#include "log.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), **env = NULL, *warning = NULL;
    static bool ready;

    if (!ready) {
        log_setup("fuzz", LOG_TARGET_NULL, LOG_ERR);
        ready = true;
    }
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (env_file_apply(text, &env, &warning) >= 0)
        for (char **e = env; e && *e; e++)
            if (!strchr(*e, '=') || **e == '=')
                abort();
    strv_free(env);
    free(warning);
    free(text);
    return 0;
}
