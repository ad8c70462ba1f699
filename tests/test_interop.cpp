// Weights move between PyTorch and ink by name through safetensors files.
// golden/torch_module.safetensors was written by golden/torch_interop.py (`make`): a seeded
// torch model's state_dict with its input and output. Here the same model built with ink
// loads it strictly and must give the same output. The other direction: this test writes
// ink's weights, input and output to the build folder, and the ctest `torch_reads_ink`
// (registered where Debian's python3-torch is installed) loads them into torch and compares.
#include <catch2/catch.hpp>

#include <ink/ink.hpp>
#include <ink/io.hpp>

using namespace ink;

namespace {
// The layers of model() in golden/torch_interop.py, in the same order.
std::shared_ptr<nn::Sequential<>> interop_model() {
  return std::make_shared<nn::Sequential<>>(
      std::make_shared<nn::Conv2d<>>(1, 4, 3, Conv2dOptions{.padding = 1}), std::make_shared<nn::BatchNorm2d<>>(4),
      std::make_shared<nn::ReLU<>>(), std::make_shared<nn::MaxPool2d<>>(2), std::make_shared<nn::Flatten<>>(),
      std::make_shared<nn::Linear<>>(4 * 4 * 4, 3));
}

// Splits "input" and "expected" off a loaded file; the rest is the state_dict.
nn::NamedTensors<float> split(nn::NamedTensors<float> all, Tensor<float>& input, Tensor<float>& expected) {
  nn::NamedTensors<float> state;
  for (auto& [n, t] : all) {
    if (n == "input") input = t;
    else if (n == "expected") expected = t;
    else state.emplace_back(n, t);
  }
  return state;
}
}  // namespace

TEST_CASE("a state_dict made by PyTorch loads into ink and gives PyTorch's output") {
  io::Metadata meta;
  auto all = io::load_safetensors<float>(std::string(INK_TEST_DATA_DIR) + "/golden/torch_module.safetensors", &meta);
  CHECK(meta["made_by"] == "tests/golden/torch_interop.py");
  Tensor<float> input, expected;
  auto state = split(all, input, expected);
  REQUIRE(input.defined());
  REQUIRE(expected.defined());
  auto net = interop_model();
  net->load_state_dict(state, /*strict=*/true);
  CHECK(net->state_dict()[6].first == "1.num_batches_tracked");
  CHECK(net->state_dict()[6].second.item() == 3);  // an I64 buffer in the file
  net->eval();
  NoGradGuard no_grad;
  const Tensor<float> got = (*net)(input);
  REQUIRE(got.shape() == expected.shape());
  CHECK((got - expected).abs().max().item() < 1e-5f);
}

TEST_CASE("ink writes a state_dict, its input and its output for PyTorch to check") {
  manual_seed(3);
  auto net = interop_model();
  // Training-mode passes move the batch-norm running statistics away from their defaults.
  for (int i = 0; i < 2; ++i) (*net)(randn<float>({16, 1, 8, 8}) * 2.f);
  net->eval();
  NoGradGuard no_grad;
  const Tensor<float> input = randn<float>({5, 1, 8, 8});
  auto tensors = net->state_dict();
  tensors.emplace_back("input", input);
  tensors.emplace_back("expected", (*net)(input));
  io::save_safetensors("ink_module.safetensors", tensors, {{"made_by", "tests/test_interop.cpp"}});
  // It reads back in ink too, names in order.
  auto back = io::load_safetensors<float>("ink_module.safetensors");
  REQUIRE(back.size() == tensors.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    CHECK(back[i].first == tensors[i].first);
    CHECK(back[i].second.to_vector() == tensors[i].second.to_vector());
  }
}
