/* fuzz_mod_file: task files (.mod) as sentryd reads them: any bytes must give a task
 * configuration or an error naming the file, never a crash or a leak. */
#include <fcntl.h>

#include "fuzz_input_file.h"
#include "mod_file.h"
#include "strv.h"
#include "task_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct mod_defaults defaults = {.interval = 3, .stop_timeout = 10};
    struct task_config *cfg = NULL;
    char **warnings = NULL, *error = NULL;
    int dirfd, r;

    fuzz_write_file("fuzztask.mod", data, size);
    dirfd = open(fuzz_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        abort();
    r = mod_file_load(dirfd, fuzz_dir(), "fuzztask.mod", &defaults, &cfg, &warnings, &error);
    if (r >= 0 && !cfg)
        abort();
    if (r < 0 && !error)
        abort(); /* every refusal says why */
    task_config_free(cfg);
    strv_free(warnings);
    free(error);
    close(dirfd);
    return 0;
}
