
/*
 * What the C unit tests share: a check counts a pass or prints the line
 * that failed, and main() ends with the "N passed, N failed" summary.
 */


#ifndef _WEBPUBSUB_UNIT_CHECK_H_INCLUDED_
#define _WEBPUBSUB_UNIT_CHECK_H_INCLUDED_


#include <stdio.h>


static int  passed, failed;


#define check(cond, name)                                                   \
    do {                                                                    \
        if (cond) {                                                         \
            passed++;                                                       \
        } else {                                                            \
            failed++;                                                       \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, name);           \
        }                                                                   \
    } while (0)


#endif /* _WEBPUBSUB_UNIT_CHECK_H_INCLUDED_ */
