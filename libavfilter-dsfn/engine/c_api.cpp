// The C API of dsfn/engine.h: every call runs inside guarded(), so no exception
// leaves the library; errors become negative errno values and a message.
#include "dsfn/engine.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "engine/engine_error.h"
#include "engine/stream_engine.h"
#include "net/weights_file.h"

namespace {

// Runs fn, turning any exception into a negative error code and a message.
template <typename Fn>
int guarded(std::string &error, Fn &&fn)
{
    try {
        error.clear();
        return fn();
    } catch (const dsfn::EngineError &e) {
        error = e.what();
        return -e.code;
    } catch (const dsfn::WeightsError &e) {
        error = e.what();
        return -e.code();
    } catch (const std::bad_alloc &) {
        error = "out of memory";
        return -ENOMEM;
    } catch (const c10::Error &e) {
        error = e.what_without_backtrace();
        const bool oom = error.find("out of memory") != std::string::npos ||
                         error.find("can't allocate memory") != std::string::npos;
        return oom ? -ENOMEM : DSFN_ERROR_EXTERNAL;
    } catch (const std::exception &e) {
        error = e.what();
        return DSFN_ERROR_EXTERNAL;
    } catch (...) {
        error = "unknown error";
        return DSFN_ERROR_EXTERNAL;
    }
}

} // namespace

extern "C" {

int dsfn_engine_api_version(void)
{
    return DSFN_ENGINE_API_VERSION;
}

DSFNEngineConfig dsfn_engine_default_config(void)
{
    DSFNEngineConfig config{};
    config.device = "cpu";
    config.with_between = 1;
    config.precision = DSFN_PRECISION_AUTO;
    config.overlap = DSFN_DEFAULT_OVERLAP;
    config.ensemble = 1;
    config.edge_mirror = DSFN_DEFAULT_EDGE_MIRROR;
    config.adapt_threads = 1;
    return config;
}

int dsfn_engine_create(DSFNEngine **engine, const DSFNEngineConfig *config, char *err, size_t err_size)
{
    std::string error;
    if (!engine)
        return -EINVAL;
    *engine = nullptr;
    const int ret = guarded(error, [&] {
        if (!config)
            throw dsfn::EngineError(EINVAL, "no configuration given");
        // Owned by the C caller until dsfn_engine_free().
        *engine = std::make_unique<DSFNEngine>(*config).release();
        return 0;
    });
    if (err && err_size) {
        std::strncpy(err, error.c_str(), err_size - 1);
        err[err_size - 1] = '\0';
    }
    return ret;
}

void dsfn_engine_free(DSFNEngine **engine)
{
    if (!engine)
        return;
    std::unique_ptr<DSFNEngine> owned(*engine);
    *engine = nullptr;
    owned.reset(); // its MemoryPolicy gives back what it kept, when no other engine holds one
}

int dsfn_engine_scale(const DSFNEngine *engine)
{
    return engine->scale();
}

int dsfn_engine_width(const DSFNEngine *engine)
{
    return engine->width();
}

int dsfn_engine_precision(const DSFNEngine *engine, const char **reason)
{
    if (reason)
        *reason = engine->precision_reason().c_str();
    return engine->precision();
}

int dsfn_engine_send(DSFNEngine *engine, const DSFNImage *image)
{
    return guarded(engine->error, [&] {
        if (!image)
            throw dsfn::EngineError(EINVAL, "no picture given");
        const auto on_device = engine->place.enter();
        engine->send(*image);
        return 0;
    });
}

int dsfn_engine_end_segment(DSFNEngine *engine)
{
    return guarded(engine->error, [&] {
        engine->end_segment();
        return 0;
    });
}

int dsfn_engine_output_ready(DSFNEngine *engine)
{
    return guarded(engine->error, [&] {
        const auto on_device = engine->place.enter();
        return engine->output_ready() ? 1 : 0;
    });
}

int dsfn_engine_receive(DSFNEngine *engine, DSFNImage *image, DSFNOutputInfo *info)
{
    return guarded(engine->error, [&] {
        DSFNOutputInfo unused;
        if (!image)
            throw dsfn::EngineError(EINVAL, "no picture given");
        const auto on_device = engine->place.enter();
        engine->receive(*image, info ? *info : unused);
        return 0;
    });
}

int dsfn_engine_picture_difference(DSFNEngine *engine, const DSFNImage *a, const DSFNImage *b, double *percent)
{
    return guarded(engine->error, [&] {
        if (!a || !b || !percent)
            throw dsfn::EngineError(EINVAL, "no picture or result given");
        const auto on_device = engine->place.enter();
        *percent = engine->picture_difference(*a, *b);
        return 0;
    });
}

void dsfn_engine_get_stats(const DSFNEngine *engine, DSFNEngineStats *stats)
{
    *stats = engine->current_stats();
}

const char *dsfn_engine_error(const DSFNEngine *engine)
{
    return engine ? engine->error.c_str() : "";
}

} // extern "C"
