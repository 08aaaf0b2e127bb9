/* GMime's process-wide initialisation. The one piece of global state in
 * the module, and GMime's own: guarded so that concurrent or repeated
 * calls are harmless. */
#include "convert/convert.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdbool.h>

static pthread_mutex_t convert_init_lock = PTHREAD_MUTEX_INITIALIZER;
static bool convert_initialised;

void convert_init(void)
{
	pthread_mutex_lock(&convert_init_lock);
	if (!convert_initialised) {
		g_mime_init();
		convert_initialised = true;
	}
	pthread_mutex_unlock(&convert_init_lock);
}

void convert_deinit(void)
{
	pthread_mutex_lock(&convert_init_lock);
	if (convert_initialised) {
		g_mime_shutdown();
		convert_initialised = false;
	}
	pthread_mutex_unlock(&convert_init_lock);
}
