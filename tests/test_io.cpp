// io/: round trips for images, IDX, safetensors and checkpoints; every reader fed malformed
// bytes (truncated, corrupt, lying headers) must throw IOError; DataLoader determinism with
// and without prefetch; a checkpoint writer killed mid-write leaves the old file intact; the
// real Fashion-MNIST from Debian's package when installed.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <ink/ink.hpp>
#include <ink/io.hpp>

using namespace ink;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() / ("ink_test_io_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path operator/(const std::string& name) const { return path / name; }
};

io::Bytes slurp(const fs::path& p) { return io::read_file(p); }
void spit(const fs::path& p, const io::Bytes& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

double max_abs_diff(const Tensor<float>& a, const Tensor<float>& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  const auto va = a.to_vector(), vb = b.to_vector();
  for (std::size_t i = 0; i < va.size(); ++i) m = std::max(m, std::abs(double(va[i]) - vb[i]));
  return m;
}

// A smooth test image whose values are exact multiples of 1/255.
Tensor<float> test_image(index_t c, index_t h, index_t w) {
  Tensor<float> t = empty<float>({c, h, w});
  for (index_t k = 0; k < c; ++k)
    for (index_t y = 0; y < h; ++y)
      for (index_t x = 0; x < w; ++x) t.at({k, y, x}) = float((k * 60 + y * 7 + x * 3) % 256) / 255.0f;
  return t;
}

std::string io_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const IOError& e) {
    return e.what();
  }
  return "<no IOError>";
}

}  // namespace

// ---------------------------------------------------------------- images

TEST_CASE("PNG round trip is exact for 8-bit values, JPEG close") {
  TempDir dir;
  for (index_t c : {1, 3}) {
    const Tensor<float> img = test_image(c, 17, 23);
    io::write_png(dir / "a.png", img);
    const Tensor<float> back = io::read_image(dir / "a.png");
    CHECK(back.shape() == Shape{c, 17, 23});
    CHECK(max_abs_diff(back, img) < 1e-6);
    io::write_image(dir / "a.JPG", img);
    const Tensor<float> jpg = io::read_image(dir / "a.JPG", {.channels = int(c)});
    CHECK(jpg.shape() == Shape{c, 17, 23});
    CHECK(max_abs_diff(jpg, img) < 0.1);
  }
  // values outside [0,1] are clamped; forced channel conversions
  Tensor<float> wild = full<float>({3, 4, 5}, 2.0f);
  wild.at({0, 0, 0}) = -1.0f;
  io::write_png(dir / "w.png", wild);
  const Tensor<float> w = io::read_image(dir / "w.png");
  CHECK(w.at({0, 0, 0}) == 0.0f);
  CHECK(w.at({1, 2, 3}) == 1.0f);
  CHECK(io::read_image(dir / "w.png", {.channels = 1}).shape() == Shape{1, 4, 5});
  CHECK(io::read_image(dir / "w.png", {.channels = 4}).shape() == Shape{4, 4, 5});
  CHECK_THROWS_AS(io::write_png(dir / "bad.png", zeros<float>({2, 4, 4})), ShapeError);
  CHECK_THROWS_AS(io::write_image(dir / "bad.gif", wild), ValueError);
}

TEST_CASE("16-bit PNG and BMP decode") {
  // A 2x1 16-bit grey PNG built by hand: samples 0xFFFF and 0x8000.
  auto chunk = [](io::Bytes& out, const char* type, const io::Bytes& data) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(std::uint8_t(data.size() >> s));
    io::Bytes body(type, type + 4);
    body.insert(body.end(), data.begin(), data.end());
    out.insert(out.end(), body.begin(), body.end());
    const auto crc = static_cast<std::uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size())));
    for (int s = 24; s >= 0; s -= 8) out.push_back(std::uint8_t(crc >> s));
  };
  const io::Bytes raw{0, 0xFF, 0xFF, 0x80, 0x00};  // filter byte, two big-endian samples
  io::Bytes z(compressBound(raw.size()));
  uLongf zlen = z.size();
  REQUIRE(compress(z.data(), &zlen, raw.data(), raw.size()) == Z_OK);
  z.resize(zlen);
  io::Bytes png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  chunk(png, "IHDR", {0, 0, 0, 2, 0, 0, 0, 1, 16, 0, 0, 0, 0});
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  const Tensor<float> grey = io::decode_image(png.data(), png.size(), {}, "grey16.png");
  CHECK(grey.shape() == Shape{1, 1, 2});
  CHECK(grey.to_vector() == std::vector<float>{1.0f, 32768.0f / 65535.0f});
  // an empty IDAT chunk first is legal (and was undefined behaviour inside stb 2.27)
  io::Bytes with_empty(png.begin(), png.begin() + 33);  // signature + IHDR
  chunk(with_empty, "IDAT", {});
  with_empty.insert(with_empty.end(), png.begin() + 33, png.end());
  CHECK(io::decode_image(with_empty.data(), with_empty.size()).to_vector() == grey.to_vector());

  // A 2x1 24-bit BMP with pixels (B,G,R) = (0,0,255) and (255,0,0).
  io::Bytes bmp = {'B', 'M', 62, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 24, 0,
                   0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0};
  const Tensor<float> img = io::decode_image(bmp.data(), bmp.size(), {}, "two.bmp");
  REQUIRE(img.shape() == Shape{3, 1, 2});
  CHECK(img.at({0, 0, 0}) == 1.0f);  // red
  CHECK(img.at({2, 0, 1}) == 1.0f);  // blue
  CHECK(img.at({1, 0, 0}) == 0.0f);
}

TEST_CASE("corrupt and truncated images give IOError naming the file") {
  TempDir dir;
  const Tensor<float> img = test_image(3, 32, 32);
  io::write_png(dir / "ok.png", img);
  io::write_jpeg(dir / "ok.jpg", img);
  for (const char* name : {"ok.png", "ok.jpg"}) {
    const io::Bytes good = slurp(dir / name);
    // truncations at many lengths, including inside the header
    for (std::size_t n : {std::size_t(0), std::size_t(4), std::size_t(20), std::size_t(40), good.size() / 2, good.size() - 10}) {
      spit(dir / "cut", io::Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
      INFO(name << " cut at " << n);
      // stb decodes some truncated JPEGs to a (grey) image; it must never crash or hang
      try {
        const Tensor<float> t = io::read_image(dir / "cut");
        CHECK(t.numel() > 0);
      } catch (const IOError& e) {
        CHECK_THAT(e.what(), Contains("cut"));
      }
    }
    // flipped bytes throughout
    io::Bytes bad = good;
    for (std::size_t i = 8; i < bad.size(); i += 7) bad[i] ^= 0x5A;
    spit(dir / "flipped", bad);
    try {
      (void)io::read_image(dir / "flipped");
    } catch (const IOError& e) {
      CHECK_THAT(e.what(), Contains("flipped"));
    }
  }
  // a truncated PNG must fail (its CRCs and zlib stream cannot be complete)
  const io::Bytes png = slurp(dir / "ok.png");
  spit(dir / "half.png", io::Bytes(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(png.size() / 2)));
  CHECK_THAT(io_error_of([&] { (void)io::read_image(dir / "half.png"); }), Contains("half.png"));
  // not an image at all, an empty file, a missing file, a directory
  spit(dir / "text.png", io::Bytes{'h', 'e', 'l', 'l', 'o'});
  CHECK_THAT(io_error_of([&] { (void)io::read_image(dir / "text.png"); }), Contains("text.png"));
  spit(dir / "empty.png", {});
  CHECK_THAT(io_error_of([&] { (void)io::read_image(dir / "empty.png"); }), Contains("empty"));
  CHECK_THAT(io_error_of([&] { (void)io::read_image(dir / "missing.png"); }), Contains("missing.png"));
  CHECK_THAT(io_error_of([&] { (void)io::read_image(dir.path); }), Contains("not a regular file"));
  // a JPEG Huffman table declaring more than 256 codes (overflows stb 2.27's tables; found by
  // fuzz_image) is refused before stb sees it
  io::Bytes jpg = slurp(dir / "ok.jpg");
  for (std::size_t i = 1; i + 20 < jpg.size(); ++i)
    if (jpg[i - 1] == 0xFF && jpg[i] == 0xC4) {
      for (std::size_t k = 0; k < 16; ++k) jpg[i + 4 + k] = 0xFF;
      break;
    }
  CHECK_THAT(io_error_of([&] { (void)io::decode_image(jpg.data(), jpg.size(), {}, "dht.jpg"); }), Contains("Huffman"));
  // a PNG chunk claiming 2 GB in a small file is refused before stb allocates for it
  io::Bytes long_chunk = slurp(dir / "ok.png");
  long_chunk[33] = 0x7f;  // the top byte of the length of the chunk after IHDR
  CHECK_THAT(io_error_of([&] { (void)io::decode_image(long_chunk.data(), long_chunk.size(), {}, "long.png"); }),
             Contains("truncated PNG"));
  // a header claiming a huge image is refused before decoding
  io::Bytes huge = png;
  huge[16] = 0x7f;  // width's top byte
  CHECK_THROWS_AS(io::decode_image(huge.data(), huge.size(), {.max_pixels = 1 << 20}), IOError);
}

TEST_CASE("resize: identity, bilinear upscaling as PyTorch, antialiased shrinking averages") {
  const Tensor<float> img = test_image(2, 6, 8);
  CHECK(max_abs_diff(io::resize(img, 6, 8), img) < 1e-6);
  // 2x upscaling of [0, 1] along a row: PyTorch bilinear (align_corners=False) gives
  // [0, 0.25, 0.75, 1].
  const Tensor<float> row = from_vector<float>({0, 1}, {1, 1, 2});
  CHECK(io::resize(row, 1, 4).to_vector() == std::vector<float>{0, 0.25f, 0.75f, 1});
  // shrinking a checkerboard 9x9 -> 3x3: antialiased, every output is near the mean 0.5;
  // without antialias each output samples one input pixel, 0 or 1
  Tensor<float> board = empty<float>({1, 9, 9});
  for (index_t y = 0; y < 9; ++y)
    for (index_t x = 0; x < 9; ++x) board.at({0, y, x}) = float((x + y) % 2);
  for (float v : io::resize(board, 3, 3).to_vector()) CHECK(v == Approx(0.5f).margin(0.07));
  for (float v : io::resize(board, 3, 3, {.antialias = false}).to_vector()) CHECK((v == 0.0f || v == 1.0f));
  // batches and gradients
  Tensor<float> batch = rand<float>({3, 2, 5, 5});
  batch.requires_grad_();
  io::resize(batch, 3, 7).sum().backward();
  CHECK(batch.grad().shape() == batch.shape());
  CHECK_THROWS_AS(io::resize(img, 0, 4), ValueError);
}

TEST_CASE("make_grid tiles like torchvision") {
  const Tensor<float> batch = ones<float>({5, 1, 4, 3});
  const Tensor<float> grid = io::make_grid(batch, {.nrow = 2, .padding = 1, .pad_value = 0.5});
  // 2 columns, 3 rows; one-channel input becomes three channels
  CHECK(grid.shape() == Shape{3, 3 * 5 + 1, 2 * 4 + 1});
  CHECK(grid.at({0, 0, 0}) == 0.5f);
  CHECK(grid.at({2, 1, 1}) == 1.0f);
  CHECK(grid.at({1, 11, 1}) == 1.0f);  // the fifth image, first column of row 3
  CHECK(grid.at({1, 11, 5}) == 0.5f);  // where a sixth image would be
  const Tensor<float> norm = io::make_grid(full<float>({2, 3, 2, 2}, 3.0f) + arange<float>(2).reshape({2, 1, 1, 1}),
                                           {.padding = 0, .normalize = true});
  CHECK(norm.min().item() == 0.0f);
  CHECK(norm.max().item() == 1.0f);
}

// ---------------------------------------------------------------- IDX

TEST_CASE("IDX round trips, raw and gzip, all types") {
  TempDir dir;
  const Tensor<float> images = arange<float>(0, 2 * 3 * 4).reshape({2, 3, 4});
  const Tensor<std::int64_t> labels = from_vector<std::int64_t>({7, 0, 9}, {3});
  for (bool gz : {false, true}) {
    const fs::path ip = dir / (gz ? "img.gz" : "img"), lp = dir / (gz ? "lab.gz" : "lab");
    io::write_idx(ip, images, {.gzip = gz});
    io::write_idx(lp, labels, {.gzip = gz});
    CHECK(io::read_idx<float>(ip).to_vector() == images.to_vector());
    const Tensor<float> scaled = io::read_idx_images(ip);
    CHECK(scaled.shape() == Shape{2, 3, 4});
    CHECK(scaled.at({1, 2, 3}) == Approx(23.0 / 255));
    CHECK(io::read_idx_labels(lp).to_vector() == labels.to_vector());
  }
  const Tensor<float> signed_values = from_vector<float>({-3, 100, -32000}, {3});
  for (io::IdxType t : {io::IdxType::i16, io::IdxType::i32, io::IdxType::f32, io::IdxType::f64}) {
    io::write_idx(dir / "t", signed_values, {.type = t});
    CHECK(io::read_idx<double>(dir / "t").to_vector() == std::vector<double>{-3, 100, -32000});
  }
  CHECK_THROWS_AS(io::write_idx(dir / "x", signed_values), ValueError);  // -3 is no u8
  io::write_idx(dir / "f", signed_values, {.type = io::IdxType::f32});
  CHECK_THROWS_AS(io::read_idx_labels(dir / "f"), IOError);  // float labels refused
  CHECK_THROWS_AS(io::read_idx_labels(dir / "img"), IOError);  // rank 3 is not a label list
}

TEST_CASE("malformed IDX gives IOError, raw and gzip") {
  TempDir dir;
  io::write_idx(dir / "raw", arange<float>(0, 200).reshape({2, 10, 10}));
  io::write_idx(dir / "gz", arange<float>(0, 200).reshape({2, 10, 10}), {.gzip = true});
  const io::Bytes raw = slurp(dir / "raw"), gz = slurp(dir / "gz");
  auto fails = [&](const io::Bytes& b, const char* expect) {
    spit(dir / "bad", b);
    const std::string msg = io_error_of([&] { (void)io::read_idx<float>(dir / "bad"); });
    CHECK_THAT(msg, Contains("bad"));
    CHECK_THAT(msg, Contains(expect));
  };
  // every truncation of the raw file, and a byte too many
  for (std::size_t n = 0; n < raw.size(); n += (n < 24 ? 1 : 37)) fails(io::Bytes(raw.begin(), raw.begin() + n), "");
  io::Bytes longer = raw;
  longer.push_back(0);
  fails(longer, "trailing");
  // bad magic, unknown type, rank 0
  io::Bytes b = raw;
  b[0] = 1;
  fails(b, "not an IDX file");
  b = raw;
  b[2] = 0x07;
  fails(b, "not an IDX file");
  b = raw;
  b[3] = 0;
  fails(b, "not an IDX file");
  // a header lying about sizes: claims 2^32-1 images; nothing huge may be allocated
  b = raw;
  b[4] = b[5] = b[6] = b[7] = 0xff;
  fails(b, "truncated");
  // more dims than a Shape holds: a file of 17 dims of size 1
  io::Bytes deep = {0, 0, 0x08, 17};
  for (int d = 0; d < 17; ++d) deep.insert(deep.end(), {0, 0, 0, 1});
  deep.push_back(42);
  fails(deep, "17 dims");
  // dims whose product overflows, and a zero dim with huge others
  b = raw;
  b[3] = 3;
  for (int i = 4; i < 16; ++i) b[static_cast<std::size_t>(i)] = 0xff;
  fails(b, "");
  // gzip: truncated at many points, corrupted, trailing garbage
  for (std::size_t n = 2; n < gz.size(); n += 5) fails(io::Bytes(gz.begin(), gz.begin() + n), "");
  b = gz;
  b[gz.size() / 2] ^= 0xff;
  b[gz.size() / 2 + 1] ^= 0xff;
  fails(b, "");
  b = gz;
  b.push_back(0x42);
  fails(b, "");
  // a gzip of a lying header: announces 1000 x 1000 x 1000 bytes, holds 200
  io::Bytes lie = raw;
  for (int d = 0; d < 3; ++d) {
    lie[4 + 4 * d + 2] = 0x03;
    lie[4 + 4 * d + 3] = 0xe8;
  }
  spit(dir / "lie", lie);
  const Tensor<float> small = io::read_idx<float>(dir / "gz");  // sanity: the good gzip reads
  CHECK(small.numel() == 200);
  CHECK_THROWS_AS(io::read_idx<float>(dir / "lie"), IOError);
  CHECK_THROWS_AS(io::read_idx<float>(dir / "nonexistent"), IOError);
}

// ---------------------------------------------------------------- datasets

TEST_CASE("DataLoader: batches, drop_last, seeded shuffle, prefetch gives the same batches") {
  const index_t n = 103;
  Tensor<float> images = arange<float>(0, n * 2 * 3).reshape({n, 2, 3});
  Tensor<std::int64_t> labels = arange<std::int64_t>(0, n);
  auto data = std::make_shared<io::TensorDataset>(images, labels);
  {
    io::DataLoader plain(data, {.batch_size = 10});
    CHECK(plain.size() == 11);
    std::int64_t expect = 0;
    std::size_t batches = 0;
    for (auto& b : plain) {
      CHECK(b.images.shape()[1] == 2);
      for (std::int64_t l : b.labels.to_vector()) CHECK(l == expect++);
      CHECK(b.images.at({0, 1, 2}) == float(b.labels.at({0}) * 6 + 5));
      ++batches;
    }
    CHECK(batches == 11);
    CHECK(expect == n);
  }
  io::DataLoader dropped(data, {.batch_size = 10, .drop_last = true});
  CHECK(dropped.size() == 10);
  auto epochs = [&](bool prefetch, std::uint64_t seed) {
    io::DataLoader loader(data, {.batch_size = 16, .shuffle = true, .seed = seed, .prefetch = prefetch});
    std::vector<std::int64_t> seen;
    for (int epoch = 0; epoch < 3; ++epoch)
      for (auto& b : loader) {
        for (std::int64_t l : b.labels.to_vector()) seen.push_back(l);
        // images follow their labels
        CHECK(b.images.select(0, 0).at({0, 0}) == float(b.labels.at({0}) * 6));
      }
    return seen;
  };
  const auto a = epochs(false, 42), b = epochs(true, 42), c = epochs(false, 43);
  CHECK(a == b);
  CHECK(a != c);
  REQUIRE(a.size() == 3 * n);
  // each epoch is a permutation, and epochs differ
  std::vector<std::int64_t> e0(a.begin(), a.begin() + n), e1(a.begin() + n, a.begin() + 2 * n);
  CHECK(e0 != e1);
  std::sort(e0.begin(), e0.end());
  CHECK(e0 == labels.to_vector());
  // breaking out of a prefetching loop early is safe
  io::DataLoader early(data, {.batch_size = 4, .prefetch = true});
  for (auto& batch : early)
    if (batch.labels.at({0}) >= 8) break;
  CHECK_THROWS_AS(io::DataLoader(data, {.batch_size = 0}), ValueError);
}

TEST_CASE("ImageFolder: classes from subfolders, images resized, through a DataLoader") {
  TempDir dir;
  fs::create_directories(dir / "cat");
  fs::create_directories(dir / "dog");
  io::write_png(dir / "cat" / "a.png", test_image(3, 8, 8));
  io::write_png(dir / "cat" / "b.png", test_image(1, 5, 7));
  io::write_jpeg(dir / "dog" / "c.jpg", test_image(3, 9, 4));
  std::ofstream(dir / "dog" / "notes.txt") << "not an image";
  auto folder = std::make_shared<io::ImageFolder>(dir.path, io::ImageFolderOptions{.size = std::pair<index_t, index_t>{6, 6}});
  CHECK(folder->classes() == std::vector<std::string>{"cat", "dog"});
  REQUIRE(folder->size() == 3);
  CHECK(folder->get(2).label == 1);
  io::DataLoader loader(folder, {.batch_size = 3, .prefetch = true});
  for (auto& b : loader) {
    CHECK(b.images.shape() == Shape{3, 3, 6, 6});
    CHECK(b.labels.to_vector() == std::vector<std::int64_t>{0, 0, 1});
  }
  CHECK_THROWS_AS(io::ImageFolder(dir / "cat"), IOError);  // no class subfolders
}

TEST_CASE("MNIST layout from IDX files; a missing folder names the Debian package") {
  TempDir dir;
  io::write_idx(dir / "t10k-images-idx3-ubyte.gz", full<float>({4, 28, 28}, 255.0f), {.gzip = true});
  io::write_idx(dir / "t10k-labels-idx1-ubyte", from_vector<std::int64_t>({1, 2, 3, 4}, {4}));
  io::MNIST test(dir.path, io::Split::test);
  REQUIRE(test.size() == 4);
  CHECK(test.get(3).image.shape() == Shape{1, 28, 28});
  CHECK(test.get(3).image.at({0, 5, 5}) == 1.0f);
  CHECK(test.get(3).label == 4);
  CHECK_THAT(io_error_of([&] { io::MNIST(dir.path, io::Split::train); }), Contains("train-images-idx3-ubyte"));
  const std::string msg = io_error_of([&] { io::FashionMNIST(io::Split::train, dir / "nowhere"); });
  CHECK_THAT(msg, Contains("nowhere") && Contains("root"));
  if (!fs::exists(io::default_fashion_mnist_root())) {
    const std::string m = io_error_of([] { io::FashionMNIST(); });
    CHECK_THAT(m, Contains("apt-get install dataset-fashion-mnist"));
  }
}

TEST_CASE("Fashion-MNIST from Debian's dataset-fashion-mnist") {
  if (!fs::exists(io::default_fashion_mnist_root())) {
    WARN("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist); test skipped");
    return;
  }
  for (auto [split, count] : {std::pair{io::Split::train, 60000}, std::pair{io::Split::test, 10000}}) {
    const io::FashionMNIST data(split);
    REQUIRE(data.size() == std::size_t(count));
    CHECK(data.images().shape() == Shape{count, 1, 28, 28});
    CHECK(data.get(0).image.shape() == Shape{1, 28, 28});
    CHECK(data.images().min().item() == 0.0f);
    CHECK(data.images().max().item() == 1.0f);
    std::vector<int> per_class(10);
    for (std::int64_t l : data.labels().to_vector()) {
      REQUIRE((l >= 0 && l <= 9));
      ++per_class[static_cast<std::size_t>(l)];
    }
    for (int k : per_class) CHECK(k == count / 10);  // Fashion-MNIST is balanced
  }
}

// ---------------------------------------------------------------- safetensors

namespace {
// Builds a safetensors file from a header text and a data buffer.
io::Bytes make_safetensors(const std::string& header, const io::Bytes& data) {
  io::Bytes out(8 + header.size() + data.size());
  const std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + static_cast<std::ptrdiff_t>(header.size()));
  return out;
}
}  // namespace

TEST_CASE("safetensors round trips float, double, int64 with metadata") {
  TempDir dir;
  nn::NamedTensors<float> ts{{"w", randn<float>({3, 4})}, {"b", randn<float>({4})}, {"scalar", scalar_tensor(2.5f)},
                             {"none", zeros<float>({0, 3})}, {"t", randn<float>({4, 3}).t()}};
  io::save_safetensors(dir / "f.safetensors", ts, {{"epoch", "3"}, {"note", "quote \" and \\ and \n"}});
  io::Metadata meta;
  const auto back = io::load_safetensors<float>(dir / "f.safetensors", &meta);
  REQUIRE(back.size() == ts.size());
  for (std::size_t i = 0; i < ts.size(); ++i) {
    CHECK(back[i].first == ts[i].first);
    CHECK(back[i].second.shape() == ts[i].second.shape());
    CHECK(back[i].second.to_vector() == ts[i].second.to_vector());
  }
  CHECK(meta["epoch"] == "3");
  CHECK(meta["note"] == "quote \" and \\ and \n");
  // the header is padded so the data is 8-byte aligned
  std::uint64_t len;
  std::memcpy(&len, slurp(dir / "f.safetensors").data(), 8);
  CHECK(len % 8 == 0);
  // double and int64, and loading them as float
  io::save_safetensors(dir / "d", nn::NamedTensors<double>{{"x", from_vector<double>({1.5, -2}, {2})}});
  CHECK(io::load_safetensors<double>(dir / "d")[0].second.to_vector() == std::vector<double>{1.5, -2});
  CHECK(io::load_safetensors<float>(dir / "d")[0].second.to_vector() == std::vector<float>{1.5f, -2});
  io::save_safetensors(dir / "i", nn::NamedTensors<std::int64_t>{{"n", from_vector<std::int64_t>({1ll << 40, -7}, {2})}});
  CHECK(io::load_safetensors<std::int64_t>(dir / "i")[0].second.to_vector() == std::vector<std::int64_t>{1ll << 40, -7});
  CHECK_THROWS_AS(io::load_safetensors<std::int64_t>(dir / "d"), IOError);  // floats are not int64
  CHECK_THROWS_AS(io::save_safetensors(dir / "dup", nn::NamedTensors<float>{{"a", ones<float>({1})}, {"a", ones<float>({1})}}),
                  ValueError);
  CHECK(!fs::exists(dir / "dup"));
}

TEST_CASE("safetensors F16 and BF16 widen to float exactly") {
  // F16: 1.0 = 0x3C00, -2.0 = 0xC000, smallest subnormal 0x0001 = 2^-24, inf 0x7C00;
  // BF16: 1.0 = 0x3F80, -0.5 = 0xBF00.
  const io::Bytes data{0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C, 0x80, 0x3F, 0x00, 0xBF};
  const auto file = make_safetensors(
      R"({"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}})", data);
  const auto ts = io::decode_safetensors<float>(file.data(), file.size());
  REQUIRE(ts.size() == 2);
  CHECK(ts[0].second.to_vector() == std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24), INFINITY});
  CHECK(ts[1].second.to_vector() == std::vector<float>{1.0f, -0.5f});
}

TEST_CASE("malformed safetensors give clear IOError") {
  const io::Bytes data(16, 0);
  auto msg = [&](const std::string& header, const io::Bytes& d) {
    const io::Bytes f = make_safetensors(header, d);
    return io_error_of([&] { (void)io::decode_safetensors<float>(f.data(), f.size(), "x.safetensors"); });
  };
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  CHECK(msg(ok, data) == "<no IOError>");
  CHECK_THAT(msg(R"({"a":{"dtype":"Q4","shape":[2,2],"data_offsets":[0,16]}})", data), Contains("unknown dtype"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,32]}})", data), Contains("outside"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[8,4]}})", data), Contains("outside"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}})", data), Contains("needs 24"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}})",
                 data),
             Contains("overlaps"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data), Contains("belong to no tensor"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", data), Contains("belong to no tensor"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}})",
                 data),
             Contains("duplicate key"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,16]}})", data),
             Contains("x.safetensors"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}})", data), Contains("non-negative"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,4],"data_offsets":[0,16]}})", data),
             Contains("17 dims"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"__metadata__":{"k":1}})", data),
             Contains("not a string"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[4]}})", data), Contains("data_offsets"));
  CHECK_THAT(msg(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})", data), Contains("malformed JSON"));
  CHECK_THAT(msg("not json at all", data), Contains("not a JSON object"));
  CHECK_THAT(msg(std::string(100, '[') , data), Contains("not a JSON object"));
  CHECK_THAT(msg("{\"a\":" + std::string(1000, '[') + std::string(1000, ']') + "}", data), Contains("nesting"));
  // header length lying: beyond the file, absurd, file shorter than the length field
  io::Bytes f = make_safetensors(ok, data);
  f[0] = 0xff;
  f[1] = 0xff;
  CHECK_THAT(io_error_of([&] { (void)io::decode_safetensors<float>(f.data(), f.size()); }), Contains("header of"));
  for (int i = 0; i < 8; ++i) f[static_cast<std::size_t>(i)] = 0xff;
  CHECK_THAT(io_error_of([&] { (void)io::decode_safetensors<float>(f.data(), f.size()); }), Contains("header of"));
  CHECK_THAT(io_error_of([&] { (void)io::decode_safetensors<float>(f.data(), 5); }), Contains("too short"));
  // every truncation of a valid file fails cleanly
  const io::Bytes good = make_safetensors(ok, data);
  for (std::size_t n = 0; n < good.size(); ++n)
    CHECK_THROWS_AS(io::decode_safetensors<float>(good.data(), n), IOError);
}

// ---------------------------------------------------------------- checkpoints

namespace {
struct Net : nn::Module<float> {
  std::shared_ptr<nn::Linear<float>> fc1, fc2;
  explicit Net(index_t hidden = 8) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear<float>>(4, hidden));
    fc2 = register_module("fc2", std::make_shared<nn::Linear<float>>(hidden, 2));
  }
  Tensor<float> forward(const Tensor<float>& x) override { return fc2->forward(fc1->forward(x).tanh()); }
};

// One training step on fresh random data drawn from `gen`; returns the loss.
float train_step(Net& net, optim::Optimizer<float>& opt, Generator& gen) {
  const Tensor<float> x = randn<float>({16, 4}, gen), y = randn<float>({16, 2}, gen);
  opt.zero_grad();
  Tensor<float> loss = mse_loss(net.forward(x), y);
  loss.backward();
  opt.step();
  return loss.item();
}
}  // namespace

TEST_CASE("checkpoint resumes training exactly") {
  TempDir dir;
  manual_seed(1);
  Net a;
  optim::Adam<float> opt_a(a.parameters(), {.lr = 0.01});
  Generator gen(7);
  for (int i = 0; i < 5; ++i) train_step(a, opt_a, gen);
  io::save_checkpoint(dir / "ckpt.safetensors", a, opt_a, 5, gen, {{"run", "test"}});
  std::vector<float> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(train_step(a, opt_a, gen));

  manual_seed(99);  // a differently initialised model, optimiser and generator
  Net b;
  optim::Adam<float> opt_b(b.parameters(), {.lr = 0.5});
  Generator gen_b(1234);
  io::Metadata extra;
  CHECK(io::load_checkpoint(dir / "ckpt.safetensors", b, opt_b, gen_b, &extra) == 5);
  CHECK(extra == io::Metadata{{"run", "test"}});
  CHECK(opt_b.lr() == Approx(0.01));
  std::vector<float> resumed;
  for (int i = 0; i < 5; ++i) resumed.push_back(train_step(b, opt_b, gen_b));
  CHECK(resumed == expected);

  // a checkpoint for another architecture is refused by the model, a plain safetensors file
  // is not a checkpoint, and reserved metadata keys cannot be set
  Net other(3);
  optim::Adam<float> opt_o(other.parameters(), {.lr = 0.01});
  CHECK_THROWS_AS(io::load_checkpoint(dir / "ckpt.safetensors", other, opt_o, gen_b), ShapeError);
  io::save_safetensors(dir / "plain", a.state_dict());
  CHECK_THAT(io_error_of([&] { io::load_checkpoint(dir / "plain", b, opt_b, gen_b); }), Contains("not an ink checkpoint"));
  CHECK_THROWS_AS(io::save_checkpoint(dir / "x", a, opt_a, 1, gen, {{"ink.epoch", "9"}}), ValueError);
}

TEST_CASE("a checkpoint writer killed mid-write leaves the previous checkpoint intact") {
  TempDir dir;
  const fs::path path = dir / "ckpt.safetensors";
  manual_seed(3);
  Net small;
  optim::SGD<float> opt(small.parameters(), {.lr = 0.1});
  Generator gen(5);
  io::save_checkpoint(path, small, opt, 1, gen);
  const io::Bytes before = slurp(path);

  // The child saves a 96 MiB model over the same path; the parent kills it as soon as its
  // temporary file has grown, i.e. mid-write.
  Net big(1 << 22);
  optim::SGD<float> big_opt(big.parameters(), {.lr = 0.1});
  bool killed_mid_write = false;
  for (int attempt = 0; attempt < 5 && !killed_mid_write; ++attempt) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      try {
        io::save_checkpoint(path, big, big_opt, 2, gen);
      } catch (...) {
        ::_exit(3);
      }
      ::_exit(0);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      bool growing = false;
      for (const auto& e : fs::directory_iterator(dir.path))
        if (e.path().filename().string().find(".tmp-") != std::string::npos && e.file_size() > (1u << 20)) growing = true;
      if (growing) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    killed_mid_write = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    if (!killed_mid_write) io::save_checkpoint(path, small, opt, 1, gen);  // the child won the race: restore
  }
  REQUIRE(killed_mid_write);
  CHECK(slurp(path) == before);
  Net restored;
  optim::SGD<float> restored_opt(restored.parameters(), {.lr = 0.5});
  Generator restored_gen;
  CHECK(io::load_checkpoint(path, restored, restored_opt, restored_gen) == 1);
  CHECK(restored.fc1->state_dict()[0].second.to_vector() == small.fc1->state_dict()[0].second.to_vector());
  CHECK(restored_gen.next_u64() == gen.next_u64());
}

// ---------------------------------------------------------------- progress

TEST_CASE("progress bar: plain lines are throttled, fields and counts shown") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    io::ProgressBar bar(200, {.description = "train", .stream = f, .mode = io::ProgressOptions::Mode::lines});
    for (int i = 0; i < 200; ++i) {
      bar.set("loss", 1.0 / (i + 1));
      bar.update();
    }
    CHECK_THAT(bar.line(), Contains("200/200") && Contains("loss=0.005"));
  }
  std::rewind(f);
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, f)) text += buf;
  std::fclose(f);
  const auto lines = std::count(text.begin(), text.end(), '\n');
  CHECK(lines == 10);  // every 10 %, the last one final
  CHECK_THAT(text, Contains("train:  10%") && Contains("100%") && Contains("20/200"));
  CHECK(text.find('\r') == std::string::npos);
  // terminal mode redraws in place
  std::FILE* t = std::tmpfile();
  {
    io::ProgressBar bar(0, {.description = "", .stream = t, .mode = io::ProgressOptions::Mode::terminal});
    bar.update(5);
  }
  std::rewind(t);
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, t);
  buf[n] = 0;
  std::fclose(t);
  CHECK(buf[0] == '\r');
  CHECK_THAT(std::string(buf), Contains("5 [") && Contains("\x1b[K"));
}
