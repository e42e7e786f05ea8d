/* fuzz-oci-config.c - libFuzzer target for the oci/ parsers.
 *
 * Owns: feeding arbitrary bytes to every document parser kvrun exposes to
 * user input: config.json (with and without a required process), a
 * standalone process (exec --process), linux.resources (update
 * --resources) and state.json. A state that parses is written back and
 * must parse again to the same status. Crashes, leaks and sanitizer
 * reports are the failures. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"
#include "oci-state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_err err = { 0 };
	struct oci_config *c = NULL;
	struct oci_process proc;
	struct oci_resources res;
	struct oci_state st;
	const char *json = (const char *)data;

	for (int need = 0; need < 2; need++) {
		if (oci_config_parse(json, size, need, &c, &err) == 0) {
			/* Touch what the runtime reads. */
			(void)oci_annotation(c, "io.kvrun.vm.cpus");
			(void)oci_namespace(c, OCI_NS_USER);
			oci_config_free(c);
		}
	}
	if (oci_process_parse(json, size, &proc, &err) == 0)
		oci_process_clear(&proc);
	if (oci_resources_parse(json, size, &res, &err) == 0)
		oci_resources_clear(&res);
	if (oci_state_parse(json, size, &st, &err) == 0) {
		char *out = NULL;
		struct oci_state again;
		if (oci_state_write(&st, true, false, &out, &err) == 0) {
			if (oci_state_parse(out, strlen(out), &again, &err) != 0 ||
			    strcmp(again.status, st.status) != 0)
				abort();
			oci_state_clear(&again);
			free(out);
		}
		oci_state_clear(&st);
	}
	return 0;
}
