// Datasets and the DataLoader: indexable (image, label) collections (in-memory tensors,
// MNIST / Fashion-MNIST from IDX files, class folders of images) and batches drawn from them
// in a seeded, reproducible order, optionally prepared one batch ahead on a background thread.
// Part of io/.
#pragma once
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ink/core/random.hpp"
#include "ink/io/idx.hpp"
#include "ink/io/image.hpp"

namespace ink::io {

struct Example {
  Tensor<float> image;
  std::int64_t label = 0;
};

// An indexable collection of examples. get() may be called from the DataLoader's background
// thread while the caller's thread works on the previous batch, so it must not modify shared
// state without locking (reading files and tensors is fine).
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::size_t size() const = 0;
  // The example at `index` in [0, size()).
  virtual Example get(std::size_t index) const = 0;
};

// Examples held in memory: images [N, ...] and integer labels [N].
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor<float> images, Tensor<std::int64_t> labels)
      : images_(images.detach().contiguous()), labels_(labels.contiguous()) {
    INK_CHECK(ShapeError, images_.dim() >= 1 && labels_.dim() == 1 && images_.size(0) == labels_.size(0),
              "TensorDataset: expected images [N,...] and labels [N], got ", images_.shape(), " and ",
              labels_.shape());
  }
  std::size_t size() const override { return static_cast<std::size_t>(labels_.size(0)); }
  Example get(std::size_t index) const override {
    INK_CHECK(ValueError, index < size(), "TensorDataset: index ", index, " out of range for ", size(), " examples");
    Shape item(images_.shape().begin() + 1, images_.shape().end());
    const index_t stride = numel(item);
    return {images_.as_strided(item, contiguous_strides(item), static_cast<index_t>(index) * stride),
            labels_.data_ptr()[index]};
  }
  const Tensor<float>& images() const { return images_; }
  const Tensor<std::int64_t>& labels() const { return labels_; }

 private:
  Tensor<float> images_;
  Tensor<std::int64_t> labels_;
};

enum class Split { train, test };

// Where Debian's dataset-fashion-mnist package installs Fashion-MNIST.
inline std::filesystem::path default_fashion_mnist_root() { return "/usr/share/datasets/fashion-mnist"; }

// MNIST-layout IDX files in one folder: {train,t10k}-{images-idx3,labels-idx1}-ubyte, each raw
// or .gz (raw preferred when both exist). Images are [1,28,28] floats in [0,1], labels 0..9.
class MNIST : public TensorDataset {
 public:
  explicit MNIST(const std::filesystem::path& root, Split split = Split::train) : MNIST(root, split, "MNIST", "") {}

 protected:
  MNIST(const std::filesystem::path& root, Split split, const std::string& what, const std::string& install_hint)
      : TensorDataset(load(root, split, what, install_hint)) {}

 private:
  static std::filesystem::path find(const std::filesystem::path& root, const std::string& stem, const std::string& what) {
    for (const std::string& name : {stem, stem + ".gz"})
      if (std::filesystem::is_regular_file(root / name)) return root / name;
    throw IOError(what + ": '" + root.string() + "' holds neither " + stem + " nor " + stem + ".gz");
  }
  static TensorDataset load(const std::filesystem::path& root, Split split, const std::string& what,
                            const std::string& install_hint) {
    INK_CHECK(IOError, std::filesystem::is_directory(root), what, ": data folder '", root.string(), "' does not exist",
              install_hint, "; pass the folder holding the IDX files as the root argument to read them from elsewhere");
    const std::string prefix = split == Split::train ? "train" : "t10k";
    const auto images_path = find(root, prefix + "-images-idx3-ubyte", what);
    const auto labels_path = find(root, prefix + "-labels-idx1-ubyte", what);
    Tensor<float> images = read_idx_images(images_path);
    Tensor<std::int64_t> labels = read_idx_labels(labels_path);
    INK_CHECK(IOError, images.dim() == 3 && images.size(0) == labels.size(0), what, ": '", images_path.string(),
              "' holds images of shape ", images.shape(), " for ", labels.size(0), " labels in '",
              labels_path.string(), "'");
    return TensorDataset(images.reshape({images.size(0), 1, images.size(1), images.size(2)}), labels);
  }
};

// Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): the MNIST layout, 60000 training and 10000 test
// images of clothing in 10 classes. By default it reads Debian's dataset-fashion-mnist package.
class FashionMNIST : public MNIST {
 public:
  explicit FashionMNIST(Split split = Split::train, const std::filesystem::path& root = default_fashion_mnist_root())
      : MNIST(root, split, "FashionMNIST",
              root == default_fashion_mnist_root()
                  ? " (on Debian, install it with `apt-get install dataset-fashion-mnist`)"
                  : "") {}
};

struct ImageFolderOptions {
  int channels = 3;                                  // 1, 3 or 4, as ImageReadOptions
  std::optional<std::pair<index_t, index_t>> size;  // resize every image to {height, width}
};

// A folder with one subfolder per class (root/cat/001.png, root/dog/xyz.jpg ...), like
// torchvision's ImageFolder: classes are the subfolder names in sorted order, labels their
// indices, examples the .png / .jpg / .jpeg / .bmp files in sorted path order. Images are
// read when asked for, not up front.
class ImageFolder : public Dataset {
 public:
  explicit ImageFolder(const std::filesystem::path& root, ImageFolderOptions o = {}) : options_(o) {
    INK_CHECK(IOError, std::filesystem::is_directory(root), "ImageFolder: '", root.string(), "' is not a folder");
    std::vector<std::filesystem::path> dirs;
    for (const auto& e : std::filesystem::directory_iterator(root))
      if (e.is_directory()) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& dir : dirs) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (auto& f : files) items_.push_back({std::move(f), static_cast<std::int64_t>(classes_.size())});
      classes_.push_back(dir.filename().string());
    }
    INK_CHECK(IOError, !items_.empty(), "ImageFolder: no .png, .jpg, .jpeg or .bmp files in the class folders of '",
              root.string(), "'");
  }
  std::size_t size() const override { return items_.size(); }
  Example get(std::size_t index) const override {
    INK_CHECK(ValueError, index < size(), "ImageFolder: index ", index, " out of range for ", size(), " images");
    Tensor<float> image = read_image(items_[index].first, {.channels = options_.channels});
    if (options_.size) image = resize(image, options_.size->first, options_.size->second);
    return {image, items_[index].second};
  }
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  static bool is_image(const std::filesystem::path& p) {
    std::string ext = p.extension().string();
    for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
  }
  ImageFolderOptions options_;
  std::vector<std::pair<std::filesystem::path, std::int64_t>> items_;
  std::vector<std::string> classes_;
};

struct Batch {
  Tensor<float> images;          // [B, ...]
  Tensor<std::int64_t> labels;   // [B]
};

struct DataLoaderOptions {
  index_t batch_size = 1;
  bool shuffle = false;
  std::uint64_t seed = 0;  // seeds the shuffling generator
  bool drop_last = false;  // drop a last batch smaller than batch_size
  bool prefetch = false;   // build the next batch on a background thread
};

// Batches of a dataset. Each begin() starts an epoch; with shuffle, the epoch's order is a
// permutation drawn from the loader's own generator, so epoch k of two loaders with the same
// seed visits the same examples in the same order, whether prefetch is on or off.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions o = {})
      : dataset_(std::move(dataset)), options_(o), generator_(o.seed) {
    INK_CHECK(ValueError, dataset_ != nullptr, "DataLoader: dataset is null");
    INK_CHECK(ValueError, o.batch_size > 0, "DataLoader: batch_size must be positive, got ", o.batch_size);
  }

  // Batches per epoch.
  std::size_t size() const {
    const std::size_t n = dataset_->size(), b = static_cast<std::size_t>(options_.batch_size);
    return options_.drop_last ? n / b : (n + b - 1) / b;
  }
  const Dataset& dataset() const { return *dataset_; }
  Generator& generator() { return generator_; }

  class Iterator {
   public:
    Batch& operator*() { return current_; }
    Batch* operator->() { return &current_; }
    Iterator& operator++() {
      advance();
      return *this;
    }
    bool operator==(std::default_sentinel_t) const { return done_; }

   private:
    friend class DataLoader;
    Iterator(std::shared_ptr<const Dataset> dataset, std::shared_ptr<const std::vector<std::size_t>> order,
             std::size_t batches, std::size_t batch_size, bool prefetch)
        : dataset_(std::move(dataset)), order_(std::move(order)), batches_(batches), batch_size_(batch_size),
          prefetch_(prefetch) {
      advance();
    }
    void advance() {
      if (next_ == batches_) {
        done_ = true;
        current_ = {};
        return;
      }
      if (pending_) {
        pending_->worker.join();
        const std::unique_ptr<Pending> done = std::move(pending_);
        if (done->error) std::rethrow_exception(done->error);
        current_ = std::move(done->batch);
      } else {
        current_ = make(next_);
      }
      ++next_;
      if (prefetch_ && next_ < batches_) {
        pending_ = std::make_unique<Pending>();
        pending_->worker = std::thread([p = pending_.get(), d = dataset_, o = order_, k = next_, b = batch_size_] {
          try {
            p->batch = collate(*d, *o, k * b, std::min(b, o->size() - k * b));
          } catch (...) {
            p->error = std::current_exception();
          }
        });
      }
    }
    Batch make(std::size_t k) const {
      return collate(*dataset_, *order_, k * batch_size_, std::min(batch_size_, order_->size() - k * batch_size_));
    }

    std::shared_ptr<const Dataset> dataset_;
    std::shared_ptr<const std::vector<std::size_t>> order_;
    std::size_t batches_, batch_size_;
    bool prefetch_;
    std::size_t next_ = 0;
    bool done_ = false;
    // The next batch, built on a background thread. A plain thread rather than std::async:
    // <future> and async's shared state cost every program that includes ink ~0.5 s of
    // compile time. The worker writes only into its own heap-held Pending.
    struct Pending {
      std::thread worker;
      Batch batch;
      std::exception_ptr error;
      ~Pending() {
        if (worker.joinable()) worker.join();  // an iterator dropped early waits for its batch
      }
    };
    Batch current_;
    std::unique_ptr<Pending> pending_;
  };

  Iterator begin() {
    auto order = std::make_shared<std::vector<std::size_t>>(dataset_->size());
    for (std::size_t i = 0; i < order->size(); ++i) (*order)[i] = i;
    if (options_.shuffle)  // Fisher-Yates
      for (std::size_t i = order->size(); i > 1; --i) std::swap((*order)[i - 1], (*order)[generator_.uniform_int(i)]);
    return Iterator(dataset_, std::move(order), size(), static_cast<std::size_t>(options_.batch_size), options_.prefetch);
  }
  std::default_sentinel_t end() const { return {}; }

  // Stacks the examples order[start .. start+count) into one batch. Every image must have the
  // shape of the first (ShapeError otherwise).
  static Batch collate(const Dataset& d, const std::vector<std::size_t>& order, std::size_t start, std::size_t count) {
    Batch b;
    b.labels = empty<std::int64_t>({static_cast<index_t>(count)});
    Shape item;
    for (std::size_t i = 0; i < count; ++i) {
      const Example e = d.get(order[start + i]);
      const Tensor<float> image = e.image.contiguous();
      if (i == 0) {
        item = image.shape();
        Shape shape{static_cast<index_t>(count)};
        shape.insert(shape.end(), item.begin(), item.end());
        b.images = empty<float>(shape);
      }
      INK_CHECK(ShapeError, image.shape() == item, "DataLoader: example ", order[start + i], " has shape ",
                image.shape(), " but the batch's first has ", item);
      std::memcpy(b.images.data_ptr() + static_cast<index_t>(i) * numel(item), image.data_ptr(),
                  static_cast<std::size_t>(numel(item)) * sizeof(float));
      b.labels.data_ptr()[i] = e.label;
    }
    return b;
  }

 private:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  Generator generator_;
};

}  // namespace ink::io
