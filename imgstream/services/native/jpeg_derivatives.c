/*
 * A JPEG photo's preview and thumbnail made in its own colour space, Y, Cb and Cr.
 *
 * The photo is decoded with libjpeg straight to its planes (no colour conversion, no chroma
 * upsampling) at the DCT scale the preview needs. Each plane is resampled on its own: chroma,
 * a quarter of the pixels in a 4:2:0 file, is resampled at its own resolution. The planes are
 * turned upright, then encoded as the 4:2:0 preview JPEG without any conversion, and resampled
 * again to the thumbnail, which alone is converted to RGB (JFIF, as libjpeg does).
 *
 * Called through ctypes (which releases the GIL); every function returns 0, or a negative
 * JP_* code with a message. libjpeg's errors and warnings alike are errors: a damaged or
 * truncated file makes no derivative.
 */
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

/* The decoder reaches into libjpeg-turbo's IDCT table and per-component DCT sizes, as laid out
   in its default ABI; another libjpeg fails here and JPEGs go through RGB. */
#if !defined(LIBJPEG_TURBO_VERSION) || JPEG_LIB_VERSION >= 70
#error "needs libjpeg-turbo built with its default libjpeg 6b ABI"
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define JP_OK 0
#define JP_ERROR -1       /* damaged data, or libjpeg refused it: the message says why */
#define JP_UNSUITED -2    /* a JPEG this path does not take (not YCbCr, unusual sampling) */
#define JP_NO_MEMORY -3

#define MESSAGE_SIZE 200
#define PRECISION 14      /* fixed-point bits of the resampling weights */
#define LANES 16          /* columns resampled together */

enum filter { FILTER_BILINEAR = 0, FILTER_CATMULL_ROM = 1 };

/* ---- resampling ------------------------------------------------------------------------ */

typedef struct {
    int *start;          /* first source sample of each output sample */
    int *count;          /* how many source samples it weighs */
    int16_t *weights;    /* `taps` per output sample, summing to 1 << PRECISION */
    int taps;
} weights_t;

static double bilinear(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double catmull_rom(double x) {
    x = fabs(x);
    if (x < 1.0) return (1.5 * x - 2.5) * x * x + 1.0;
    if (x < 2.0) return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0;
    return 0.0;
}

static void free_weights(weights_t *w) {
    free(w->start);
    free(w->count);
    free(w->weights);
}

/* The convolution weights from `in` samples to `out`, the filter widened by the reduction. */
static int make_weights(int in, int out, enum filter filter, weights_t *w) {
    double (*kernel)(double) = filter == FILTER_CATMULL_ROM ? catmull_rom : bilinear;
    double radius = filter == FILTER_CATMULL_ROM ? 2.0 : 1.0;
    double scale = (double)in / out;
    double widen = scale < 1.0 ? 1.0 : scale;
    double support = radius * widen;
    w->taps = (int)ceil(support) * 2 + 1;
    w->start = malloc(sizeof(int) * out);
    w->count = malloc(sizeof(int) * out);
    w->weights = calloc((size_t)out * w->taps, sizeof(int16_t));
    double *real = malloc(sizeof(double) * w->taps);
    if (!w->start || !w->count || !w->weights || !real) {
        free(real);
        free_weights(w);
        return JP_NO_MEMORY;
    }
    for (int o = 0; o < out; o++) {
        double center = (o + 0.5) * scale;
        int first = (int)floor(center - support + 0.5);
        int last = (int)floor(center + support + 0.5);
        if (first < 0) first = 0;
        if (last > in) last = in;
        int count = last - first;
        if (count > w->taps) count = w->taps;
        double total = 0.0;
        for (int i = 0; i < count; i++) {
            real[i] = kernel((i + first - center + 0.5) / widen);
            total += real[i];
        }
        int16_t *weights = w->weights + (size_t)o * w->taps;
        int sum = 0;
        for (int i = 0; i < count; i++) {
            double weight = total != 0.0 ? real[i] / total * (1 << PRECISION) : 0.0;
            weights[i] = (int16_t)lround(fmax(-(1 << PRECISION), fmin(1 << PRECISION, weight)));
            sum += weights[i];
        }
        if (count > 0) weights[0] += (1 << PRECISION) - sum;
        w->start[o] = first;
        w->count[o] = count;
    }
    free(real);
    return JP_OK;
}

static inline uint8_t clamp8(int32_t v) {
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* One output sample: column x of `count` rows from `s`, weighed. */
static inline uint8_t convolve_at(const uint8_t *s, int stride, int x, const int16_t *weights,
                                  int count) {
    int32_t acc = 1 << (PRECISION - 1);
    for (int i = 0; i < count; i++) acc += weights[i] * s[(size_t)i * stride + x];
    return clamp8(acc >> PRECISION);
}

/* Rows of `width` samples from `src` (rows `stride` apart) convolved into `rows` output rows. */
static void convolve_rows_plain(const uint8_t *src, int width, int stride, uint8_t *dst,
                                int rows, int dst_stride, const weights_t *w) {
    for (int y = 0; y < rows; y++) {
        const int16_t *weights = w->weights + (size_t)y * w->taps;
        const uint8_t *s = src + (size_t)w->start[y] * stride;
        for (int x = 0; x < width; x++)
            dst[(size_t)y * dst_stride + x] = convolve_at(s, stride, x, weights, w->count[y]);
    }
}

/* The same, LANES columns at a time with AVX2; the same results. */
__attribute__((target("avx2")))
static void convolve_rows_avx2(const uint8_t *src, int width, int stride, uint8_t *dst,
                               int rows, int dst_stride, const weights_t *w) {
    for (int y = 0; y < rows; y++) {
        const int16_t *weights = w->weights + (size_t)y * w->taps;
        const uint8_t *s = src + (size_t)w->start[y] * stride;
        uint8_t *d = dst + (size_t)y * dst_stride;
        int count = w->count[y];
        int x = 0;
        for (; x + LANES <= width; x += LANES) {
            __m256i low = _mm256_set1_epi32(1 << (PRECISION - 1)), high = low;
            for (int i = 0; i < count; i++) {
                __m256i pixels = _mm256_cvtepu8_epi16(
                    _mm_loadu_si128((const __m128i *)(s + (size_t)i * stride + x)));
                __m256i weight = _mm256_set1_epi16(weights[i]);
                __m256i lo = _mm256_mullo_epi16(pixels, weight);
                __m256i hi = _mm256_mulhi_epi16(pixels, weight);
                low = _mm256_add_epi32(low, _mm256_unpacklo_epi16(lo, hi));
                high = _mm256_add_epi32(high, _mm256_unpackhi_epi16(lo, hi));
            }
            /* unpacklo/hi split each 128-bit lane; packs joins them back in order */
            __m256i packed = _mm256_packs_epi32(_mm256_srai_epi32(low, PRECISION),
                                                _mm256_srai_epi32(high, PRECISION));
            _mm_storeu_si128((__m128i *)(d + x),
                             _mm_packus_epi16(_mm256_castsi256_si128(packed),
                                              _mm256_extracti128_si256(packed, 1)));
        }
        for (; x < width; x++) d[x] = convolve_at(s, stride, x, weights, count);
    }
}

static int simd_allowed = 1;  /* the tests turn it off to check the plain code */

static void convolve_rows(const uint8_t *src, int width, int stride, uint8_t *dst, int rows,
                          int dst_stride, const weights_t *w) {
#if defined(__x86_64__)
    if (simd_allowed && __builtin_cpu_supports("avx2")) {
        convolve_rows_avx2(src, width, stride, dst, rows, dst_stride, w);
        return;
    }
#endif
    convolve_rows_plain(src, width, stride, dst, rows, dst_stride, w);
}

#if defined(__x86_64__)
/* An 8 x 8 block of bytes transposed (SSE2, which every x86-64 CPU has). */
static inline void transpose8(const uint8_t *src, size_t src_stride, uint8_t *dst,
                              size_t dst_stride) {
    __m128i r[8];
    for (int i = 0; i < 8; i++) r[i] = _mm_loadl_epi64((const __m128i *)(src + i * src_stride));
    __m128i a0 = _mm_unpacklo_epi8(r[0], r[1]), a1 = _mm_unpacklo_epi8(r[2], r[3]);
    __m128i a2 = _mm_unpacklo_epi8(r[4], r[5]), a3 = _mm_unpacklo_epi8(r[6], r[7]);
    __m128i b0 = _mm_unpacklo_epi16(a0, a1), b1 = _mm_unpackhi_epi16(a0, a1);
    __m128i b2 = _mm_unpacklo_epi16(a2, a3), b3 = _mm_unpackhi_epi16(a2, a3);
    __m128i c[4] = {_mm_unpacklo_epi32(b0, b2), _mm_unpackhi_epi32(b0, b2),
                    _mm_unpacklo_epi32(b1, b3), _mm_unpackhi_epi32(b1, b3)};
    for (int i = 0; i < 4; i++) {
        _mm_storel_epi64((__m128i *)(dst + 2 * i * dst_stride), c[i]);
        _mm_storel_epi64((__m128i *)(dst + (2 * i + 1) * dst_stride), _mm_srli_si128(c[i], 8));
    }
}
#endif

/* dst[x][r] = src[r][x] for r < rows and x < cols: 8 x 8 blocks at a time where it can, the
   blocks along the longer side in the outer loop. */
static void transpose(const uint8_t *src, size_t src_stride, int rows, int cols, uint8_t *dst,
                      size_t dst_stride) {
    int rows8 = 0, cols8 = 0;
#if defined(__x86_64__)
    rows8 = rows / 8 * 8;
    cols8 = cols / 8 * 8;
    for (int outer = 0; outer < (rows >= cols ? rows8 : cols8); outer += 8)
        for (int inner = 0; inner < (rows >= cols ? cols8 : rows8); inner += 8) {
            size_t r = (size_t)(rows >= cols ? outer : inner);
            size_t x = (size_t)(rows >= cols ? inner : outer);
            transpose8(src + r * src_stride + x, src_stride, dst + x * dst_stride + r,
                       dst_stride);
        }
#endif
    for (int r = 0; r < rows; r++)  /* what the blocks leave */
        for (int x = r < rows8 ? cols8 : 0; x < cols; x++)
            dst[(size_t)x * dst_stride + r] = src[(size_t)r * src_stride + x];
}

/*
 * A plane resampled from w x h to ow x oh: vertically in bands of LANES rows, each band then
 * horizontally through a column-major copy of it, which stays in cache.
 */
static int resample_plane(const uint8_t *src, int w, int h, int stride, uint8_t *dst, int ow,
                          int oh, enum filter filter) {
    weights_t vertical, horizontal;
    if (make_weights(h, oh, filter, &vertical)) return JP_NO_MEMORY;
    if (make_weights(w, ow, filter, &horizontal)) {
        free_weights(&vertical);
        return JP_NO_MEMORY;
    }
    uint8_t *band = malloc((size_t)LANES * w);
    uint8_t *cols = malloc((size_t)LANES * w);
    uint8_t *out_cols = malloc((size_t)LANES * ow);
    int status = band && cols && out_cols ? JP_OK : JP_NO_MEMORY;
    for (int y = 0; status == JP_OK && y < oh; y += LANES) {
        int rows = oh - y < LANES ? oh - y : LANES;
        weights_t part = {vertical.start + y, vertical.count + y,
                          vertical.weights + (size_t)y * vertical.taps, vertical.taps};
        convolve_rows(src, w, stride, band, rows, w, &part);
        if (rows < LANES) memset(cols, 0, (size_t)LANES * w);  /* lanes past the image */
        transpose(band, w, rows, w, cols, LANES);  /* band rows -> columns of LANES bytes */
        convolve_rows(cols, LANES, LANES, out_cols, ow, LANES, &horizontal);
        transpose(out_cols, LANES, ow, rows, dst + (size_t)y * ow, ow);
    }
    free(band);
    free(cols);
    free(out_cols);
    free_weights(&vertical);
    free_weights(&horizontal);
    return status;
}

/* ---- planes ----------------------------------------------------------------------------- */

typedef struct {
    uint8_t *data[3];
    int width[3], height[3], stride[3];
} planes_t;

static void free_planes(planes_t *p) {
    for (int c = 0; c < 3; c++) {
        free(p->data[c]);
        p->data[c] = NULL;
    }
}

static int alloc_planes(planes_t *p, const int width[3], const int height[3]) {
    memset(p, 0, sizeof *p);
    for (int c = 0; c < 3; c++) {
        p->width[c] = p->stride[c] = width[c];
        p->height[c] = height[c];
        p->data[c] = malloc((size_t)width[c] * height[c]);
        if (!p->data[c]) {
            free_planes(p);
            return JP_NO_MEMORY;
        }
    }
    return JP_OK;
}

/*
 * `src` (w x h) turned by EXIF orientation 1-8 into `dst`, whose size is the upright one:
 * transposed for 5-8 (8 x 8 blocks at a time), then mirrored left to right and/or top to
 * bottom. Returns JP_NO_MEMORY when it has no row to swap with.
 */
static int orient_plane(const uint8_t *src, int w, int h, int stride, uint8_t *dst,
                        int orientation) {
    enum { TURN = 1, LEFT_RIGHT = 2, TOP_BOTTOM = 4 };
    static const int steps[9] = {0, 0, LEFT_RIGHT, LEFT_RIGHT | TOP_BOTTOM, TOP_BOTTOM, TURN,
                                 TURN | LEFT_RIGHT, TURN | LEFT_RIGHT | TOP_BOTTOM,
                                 TURN | TOP_BOTTOM};
    int step = orientation >= 1 && orientation <= 8 ? steps[orientation] : 0;
    int dw = step & TURN ? h : w, dh = step & TURN ? w : h;
    if (step & TURN)
        transpose(src, stride, h, w, dst, dw);
    else
        for (int y = 0; y < h; y++) memcpy(dst + (size_t)y * w, src + (size_t)y * stride, w);
    if (step & LEFT_RIGHT)
        for (int y = 0; y < dh; y++) {
            uint8_t *row = dst + (size_t)y * dw;
            for (int a = 0, b = dw - 1; a < b; a++, b--) {
                uint8_t t = row[a];
                row[a] = row[b];
                row[b] = t;
            }
        }
    if (step & TOP_BOTTOM) {
        uint8_t *spare = malloc((size_t)dw);
        if (!spare) return JP_NO_MEMORY;
        for (int a = 0, b = dh - 1; a < b; a++, b--) {
            memcpy(spare, dst + (size_t)a * dw, dw);
            memcpy(dst + (size_t)a * dw, dst + (size_t)b * dw, dw);
            memcpy(dst + (size_t)b * dw, spare, dw);
        }
        free(spare);
    }
    return JP_OK;
}

/* ---- libjpeg ---------------------------------------------------------------------------- */

/* libjpeg's IDCT dispatch (jpegint.h), whose chroma entries the decoder points at the luma's. */
typedef void (*inverse_dct_method)(j_decompress_ptr, jpeg_component_info *, JCOEFPTR,
                                   JSAMPARRAY, JDIMENSION);
struct inverse_dct_table {
    void (*start_pass)(j_decompress_ptr);
    inverse_dct_method methods[MAX_COMPONENTS];
};

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf escape;
    char *message;
} jp_error;

static void on_error(j_common_ptr info) {
    jp_error *e = (jp_error *)info->err;
    char text[JMSG_LENGTH_MAX];
    e->manager.format_message(info, text);
    snprintf(e->message, MESSAGE_SIZE, "%s", text);
    longjmp(e->escape, 1);
}

static void on_message(j_common_ptr info, int level) {
    if (level < 0) on_error(info);  /* a warning: the data is damaged */
}

/*
 * Decode to planes at 1/denominator. A 4:2:0 file's chroma would be decoded at twice the
 * scale, to spare libjpeg its upsampling; here it keeps the luma's scale, as in TurboJPEG's
 * own plane decoder, so chroma stays a quarter of the pixels.
 */
static int decode_planes(const uint8_t *data, size_t size, int width, int height,
                         int denominator, planes_t *planes, char *message) {
    struct jpeg_decompress_struct info;
    jp_error e = {.message = message};
    memset(planes, 0, sizeof *planes);
    info.err = jpeg_std_error(&e.manager);
    e.manager.error_exit = on_error;
    e.manager.emit_message = on_message;
    if (setjmp(e.escape)) {
        jpeg_destroy_decompress(&info);
        free_planes(planes);
        return JP_ERROR;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, (unsigned char *)data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    if ((int)info.image_width != width || (int)info.image_height != height) {
        /* the size checked against the pixel limit is not the one libjpeg would decode */
        jpeg_destroy_decompress(&info);
        snprintf(message, MESSAGE_SIZE, "the JPEG's frame headers disagree about its size");
        return JP_ERROR;
    }
    int suited = info.num_components == 3 && info.jpeg_color_space == JCS_YCbCr
                 && info.max_h_samp_factor <= 2 && info.max_v_samp_factor <= 2;
    for (int c = 1; suited && c < 3; c++)
        suited = info.comp_info[c].h_samp_factor == 1 && info.comp_info[c].v_samp_factor == 1;
    if (!suited) {
        jpeg_destroy_decompress(&info);
        snprintf(message, MESSAGE_SIZE, "not a YCbCr JPEG with 4:4:4, 4:2:2 or 4:2:0 chroma");
        return JP_UNSUITED;
    }
    info.raw_data_out = TRUE;
    info.scale_num = 1;
    info.scale_denom = denominator;
    info.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&info);
    int block = info.min_DCT_scaled_size;
    struct inverse_dct_table *idct = (struct inverse_dct_table *)info.idct;
    int plane_width[3], plane_height[3], rows[3];
    int row_groups = (info.output_height + info.max_v_samp_factor * block - 1)
                     / (info.max_v_samp_factor * block);
    for (int c = 0; c < 3; c++) {
        jpeg_component_info *comp = &info.comp_info[c];
        if (comp->DCT_scaled_size != block) {
            comp->DCT_scaled_size = block;
            comp->MCU_sample_width = block * comp->h_samp_factor;
            idct->methods[c] = idct->methods[0];
        }
        rows[c] = comp->v_samp_factor * block;
        plane_width[c] = comp->width_in_blocks * block;
        plane_height[c] = row_groups * rows[c];
    }
    if (alloc_planes(planes, plane_width, plane_height)) {
        jpeg_destroy_decompress(&info);
        snprintf(message, MESSAGE_SIZE, "out of memory");
        return JP_NO_MEMORY;
    }
    for (int c = 0; c < 3; c++) {
        jpeg_component_info *comp = &info.comp_info[c];
        planes->width[c] = (int)((info.output_width * comp->h_samp_factor
                                  + info.max_h_samp_factor - 1) / info.max_h_samp_factor);
        planes->height[c] = (int)((info.output_height * comp->v_samp_factor
                                   + info.max_v_samp_factor - 1) / info.max_v_samp_factor);
    }
    JSAMPROW y_rows[2 * DCTSIZE], cb_rows[2 * DCTSIZE], cr_rows[2 * DCTSIZE];
    JSAMPARRAY buffers[3] = {y_rows, cb_rows, cr_rows};
    for (int group = 0; info.output_scanline < info.output_height; group++) {
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < rows[c]; i++)
                buffers[c][i] = planes->data[c] + ((size_t)group * rows[c] + i) * planes->stride[c];
        jpeg_read_raw_data(&info, buffers, info.max_v_samp_factor * block);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    return JP_OK;
}

/* The 4:2:0 JPEG of planes Y (w x h) and Cb, Cr (ceil(w/2) x ceil(h/2)), in malloc'd memory. */
static void pad_row(const uint8_t *src, int width, uint8_t *dst, int padded) {
    memcpy(dst, src, (size_t)width);
    memset(dst + width, src[width - 1], (size_t)(padded - width));
}

static int encode_planes(uint8_t *const planes[3], int w, int h, int quality, uint8_t **out,
                         unsigned long *out_size, char *message) {
    struct jpeg_compress_struct info;
    jp_error e = {.message = message};
    info.err = jpeg_std_error(&e.manager);
    e.manager.error_exit = on_error;
    *out = NULL;
    *out_size = 0;
    uint8_t *volatile rows = NULL;
    if (setjmp(e.escape)) {
        jpeg_destroy_compress(&info);
        free(rows);
        free(*out);
        *out = NULL;
        return JP_ERROR;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, out, out_size);
    info.image_width = w;
    info.image_height = h;
    info.input_components = 3;
    info.in_color_space = JCS_YCbCr;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    info.raw_data_in = TRUE;
    info.dct_method = JDCT_ISLOW;
    info.comp_info[0].h_samp_factor = info.comp_info[0].v_samp_factor = 2;
    for (int c = 1; c < 3; c++) info.comp_info[c].h_samp_factor = info.comp_info[c].v_samp_factor = 1;
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    /* libjpeg reads whole 8 x 8 blocks of raw data and pads nothing itself: each group of rows
       is copied into rows as wide as the blocks, the last sample repeated to their end, and the
       last row repeated below the image. */
    int y_width = (w + 2 * DCTSIZE - 1) / (2 * DCTSIZE) * 2 * DCTSIZE;
    int c_width = y_width / 2;
    rows = malloc((size_t)2 * DCTSIZE * y_width + 2 * (size_t)DCTSIZE * c_width);
    if (!rows) {
        jpeg_destroy_compress(&info);
        snprintf(message, MESSAGE_SIZE, "out of memory");
        return JP_NO_MEMORY;
    }
    JSAMPROW y_rows[2 * DCTSIZE], cb_rows[DCTSIZE], cr_rows[DCTSIZE];
    JSAMPARRAY buffers[3] = {y_rows, cb_rows, cr_rows};
    for (int i = 0; i < 2 * DCTSIZE; i++) y_rows[i] = rows + (size_t)i * y_width;
    for (int i = 0; i < DCTSIZE; i++) {
        cb_rows[i] = rows + (size_t)2 * DCTSIZE * y_width + (size_t)i * c_width;
        cr_rows[i] = cb_rows[i] + (size_t)DCTSIZE * c_width;
    }
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        int y = (int)info.next_scanline;
        for (int i = 0; i < 2 * DCTSIZE; i++)
            pad_row(planes[0] + (size_t)(y + i < h ? y + i : h - 1) * w, w, y_rows[i], y_width);
        for (int i = 0; i < DCTSIZE; i++) {
            size_t row = (size_t)(y / 2 + i < ch ? y / 2 + i : ch - 1) * cw;
            pad_row(planes[1] + row, cw, cb_rows[i], c_width);
            pad_row(planes[2] + row, cw, cr_rows[i], c_width);
        }
        jpeg_write_raw_data(&info, buffers, 2 * DCTSIZE);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    free(rows);
    return JP_OK;
}

/* ---- the derivatives -------------------------------------------------------------------- */

static uint8_t *alloc_plane(int w, int h) {
    return malloc((size_t)w * h);
}

/*
 * Preview and thumbnail of a YCbCr JPEG.
 *
 * data, size:          the file.
 * width, height:       the image's size, as already checked against the pixel limit.
 * denominator:         DCT scale of the decode (1, 2, 4 or 8); the decode must cover the preview.
 * preview_w, _h:       the preview's size as stored (before turning).
 * orientation:         EXIF orientation 1-8; the derivatives are upright.
 * quality:             the preview's JPEG quality.
 * thumb_w, _h:         the thumbnail's size, upright.
 * preview, preview_size: out, the preview JPEG in malloc'd memory (release with jd_free).
 * thumb_rgb:           out, thumb_w * thumb_h * 3 bytes of RGB.
 * message:             out, MESSAGE_SIZE bytes: why, when the result is not JP_OK.
 */
int jd_make(const uint8_t *data, size_t size, int width, int height, int denominator, int preview_w,
                   int preview_h, int orientation, int quality, int thumb_w, int thumb_h,
                   uint8_t **preview, unsigned long *preview_size, uint8_t *thumb_rgb,
                   char *message) {
    *preview = NULL;
    *preview_size = 0;
    message[0] = 0;
    planes_t decoded;
    int status = decode_planes(data, size, width, height, denominator, &decoded, message);
    if (status) return status;
    int turned = orientation >= 5 && orientation <= 8;
    int pw = preview_w, ph = preview_h;              /* as stored */
    int uw = turned ? ph : pw, uh = turned ? pw : ph;  /* upright */
    int cw = (pw + 1) / 2, ch = (ph + 1) / 2, ucw = (uw + 1) / 2, uch = (uh + 1) / 2;
    uint8_t *stored[3] = {alloc_plane(pw, ph), alloc_plane(cw, ch), alloc_plane(cw, ch)};
    uint8_t *upright[3] = {NULL, NULL, NULL};
    uint8_t *thumb[3] = {malloc((size_t)thumb_w * thumb_h), malloc((size_t)thumb_w * thumb_h),
                         malloc((size_t)thumb_w * thumb_h)};
    status = stored[0] && stored[1] && stored[2] && thumb[0] && thumb[1] && thumb[2]
             ? JP_OK : JP_NO_MEMORY;
    const int sizes[3][2] = {{pw, ph}, {cw, ch}, {cw, ch}};
    for (int c = 0; status == JP_OK && c < 3; c++)
        status = resample_plane(decoded.data[c], decoded.width[c], decoded.height[c],
                                decoded.stride[c], stored[c], sizes[c][0], sizes[c][1],
                                FILTER_BILINEAR);
    free_planes(&decoded);
    if (status == JP_OK && orientation >= 2 && orientation <= 8) {
        const int up[3][2] = {{uw, uh}, {ucw, uch}, {ucw, uch}};
        for (int c = 0; c < 3; c++) {
            upright[c] = alloc_plane(up[c][0], up[c][1]);
            if (!upright[c]) {
                status = JP_NO_MEMORY;
                break;
            }
            status = orient_plane(stored[c], sizes[c][0], sizes[c][1], sizes[c][0], upright[c],
                                  orientation);
            if (status) break;
        }
    } else {
        for (int c = 0; c < 3; c++) {
            upright[c] = stored[c];
            stored[c] = NULL;
        }
    }
    if (status == JP_OK)
        status = encode_planes(upright, uw, uh, quality, preview, preview_size, message);
    const int up[3][2] = {{uw, uh}, {ucw, uch}, {ucw, uch}};
    for (int c = 0; status == JP_OK && c < 3; c++)
        status = resample_plane(upright[c], up[c][0], up[c][1], up[c][0], thumb[c], thumb_w,
                                thumb_h, FILTER_CATMULL_ROM);
    if (status == JP_OK) {
        /* JFIF YCbCr to RGB, as libjpeg converts: full range, BT.601 weights. */
        for (size_t i = 0; i < (size_t)thumb_w * thumb_h; i++) {
            int y = thumb[0][i], cb = thumb[1][i] - 128, cr = thumb[2][i] - 128;
            thumb_rgb[3 * i] = clamp8(y + ((91881 * cr + 32768) >> 16));
            thumb_rgb[3 * i + 1] = clamp8(y - ((22554 * cb + 46802 * cr - 32768) >> 16));
            thumb_rgb[3 * i + 2] = clamp8(y + ((116130 * cb + 32768) >> 16));
        }
    }
    if (status == JP_NO_MEMORY && !message[0]) snprintf(message, MESSAGE_SIZE, "out of memory");
    if (status != JP_OK) {
        free(*preview);
        *preview = NULL;
        *preview_size = 0;
    }
    for (int c = 0; c < 3; c++) {
        free(stored[c]);
        free(upright[c]);
        free(thumb[c]);
    }
    return status;
}

/* Resample one plane (for tests and the bench): w x h -> ow x oh, filter 0 bilinear, 1 Catmull-Rom. */
int jd_resample(const uint8_t *src, int w, int h, uint8_t *dst, int ow, int oh, int filter) {
    return resample_plane(src, w, h, w, dst, ow, oh, filter ? FILTER_CATMULL_ROM : FILTER_BILINEAR);
}

/* Whether the resampler may use AVX2 where the CPU has it (for tests: the results are equal). */
void jd_allow_simd(int allowed) {
    simd_allowed = allowed;
}

void jd_free(void *memory) {
    free(memory);
}
