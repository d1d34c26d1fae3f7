/*
 * xlu_dump FILE KEY...: parses FILE with Xen's own libxlutil (what `xl create` uses) and prints,
 * one line each: "accepted" or "rejected" (libxlutil's messages go to stderr), then per KEY
 * "KEY absent" or "KEY VALUE" where a string is s:HEX (its bytes in hex, so any byte survives)
 * and a list is [ITEM,ITEM,...], followed for strings by " long:N" or " long:error" as
 * xlu_cfg_get_long reads it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxlutil.h>

static void dump(const XLU_Config *cfg, XLU_ConfigValue *v)
{
    if (xlu_cfg_value_type(v) == XLU_STRING) {
        char *s;
        xlu_cfg_value_get_string(cfg, v, &s, 1);
        printf("s:");
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            printf("%02x", *p);
        return;
    }
    XLU_ConfigList *list;
    xlu_cfg_value_get_list(cfg, v, &list, 1);
    printf("[");
    for (int i = 0;; i++) {
        XLU_ConfigValue *item = xlu_cfg_get_listitem2(list, i);
        if (!item)
            break;
        if (i)
            printf(",");
        dump(cfg, item);
    }
    printf("]");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: xlu_dump FILE KEY...\n");
        return 2;
    }
    XLU_Config *cfg = xlu_cfg_init(stderr, argv[1]);
    if (!cfg)
        return 2;
    if (xlu_cfg_readfile(cfg, argv[1])) {
        printf("rejected\n");
        return 0;
    }
    printf("accepted\n");
    for (int k = 2; k < argc; k++) {
        XLU_ConfigList *list;
        int n;
        const char *s;
        printf("%s ", argv[k]);
        if (xlu_cfg_get_list(cfg, argv[k], &list, &n, 1) == 0) {
            printf("[");
            for (int i = 0; i < n; i++) {
                if (i)
                    printf(",");
                dump(cfg, xlu_cfg_get_listitem2(list, i));
            }
            printf("]\n");
        } else if (xlu_cfg_get_string(cfg, argv[k], &s, 1) == 0) {
            long l;
            printf("s:");
            for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                printf("%02x", *p);
            if (xlu_cfg_get_long(cfg, argv[k], &l, 1) == 0)
                printf(" long:%ld\n", l);
            else
                printf(" long:error\n");
        } else {
            printf("absent\n");
        }
    }
    xlu_cfg_destroy(cfg);
    return 0;
}
